import { randomBytes } from 'node:crypto';
import type { AwsFault } from './errors.js';
import type { QueryParams } from './query.js';
import type { FakeAccountState } from './state.js';
import { escapeXml, renderXml, XML_DECLARATION, type XmlObject } from './xml.js';

/** What every operation handler may read besides its input. */
export interface OperationContext {
  state: FakeAccountState;
  requestId: string;
  /** The access key id the request was signed with (from the SigV4 credential scope). */
  accessKeyId?: string;
  /** The region the request was signed for (from the SigV4 credential scope). */
  region?: string;
}

/** An awsQuery operation (IAM, STS, SNS): the content of `<XResult>`, or undefined when there is none. */
export type QueryOperation = (params: QueryParams, context: OperationContext) => XmlObject | undefined;

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The error code sent, for the call record. */
  errorCode?: string;
}

export type QueryService = 'EC2' | 'IAM' | 'STS' | 'SNS';

const QUERY_NAMESPACES: Record<Exclude<QueryService, 'EC2'>, string> = {
  IAM: 'https://iam.amazonaws.com/doc/2010-05-08/',
  STS: 'https://sts.amazonaws.com/doc/2011-06-15/',
  SNS: 'http://sns.amazonaws.com/doc/2010-03-31/',
};

const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

const xmlReply = (status: number, requestId: string, body: string, errorCode?: string): HttpReply => ({
  status,
  headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-RequestId': requestId },
  body,
  ...(errorCode === undefined ? {} : { errorCode }),
});

const children = (content: XmlObject, itemName: string): string =>
  Object.entries(content)
    .map(([name, value]) => renderXml(name, value, itemName))
    .join('');

/** EC2 flavour of the Query protocol: lower-camel elements, `<item>` lists, `<requestId>` first. */
export const ec2Success = (operation: string, requestId: string, content: XmlObject): HttpReply =>
  xmlReply(
    200,
    requestId,
    `${XML_DECLARATION}<${operation}Response xmlns="${EC2_NAMESPACE}"><requestId>${requestId}</requestId>` +
      `${children(content, 'item')}</${operation}Response>`,
  );

export const ec2Error = (fault: AwsFault, requestId: string): HttpReply =>
  xmlReply(
    fault.status,
    requestId,
    `${XML_DECLARATION}<Response><Errors><Error><Code>${escapeXml(fault.code)}</Code>` +
      `<Message>${escapeXml(fault.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
    fault.code,
  );

/** awsQuery (IAM, STS, SNS): `<XResponse><XResult>…</XResult><ResponseMetadata>`, `<member>` lists. */
export const querySuccess = (
  service: Exclude<QueryService, 'EC2'>,
  operation: string,
  requestId: string,
  result: XmlObject | undefined,
): HttpReply =>
  xmlReply(
    200,
    requestId,
    `${XML_DECLARATION}<${operation}Response xmlns="${QUERY_NAMESPACES[service]}">` +
      (result === undefined ? '' : renderXml(`${operation}Result`, result, 'member')) +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`,
  );

export const queryError = (
  service: Exclude<QueryService, 'EC2'>,
  fault: AwsFault,
  requestId: string,
): HttpReply =>
  xmlReply(
    fault.status,
    requestId,
    `${XML_DECLARATION}<ErrorResponse xmlns="${QUERY_NAMESPACES[service]}"><Error>` +
      `<Type>${fault.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(fault.code)}</Code>` +
      `<Message>${escapeXml(fault.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    fault.code,
  );

/** awsJson1_1 (CloudTrail, Organizations). */
export const jsonSuccess = (requestId: string, output: Record<string, unknown>): HttpReply => ({
  status: 200,
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': requestId },
  body: JSON.stringify(output),
});

/** CloudTrail spells the error message `message`, Organizations `Message`. */
export const jsonError = (
  fault: AwsFault,
  requestId: string,
  messageMember: 'message' | 'Message' = 'message',
): HttpReply => ({
  status: fault.status,
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': requestId },
  body: JSON.stringify({ __type: fault.code, [messageMember]: fault.message, ...fault.fields }),
  errorCode: fault.code,
});

/** restJson1 (GuardDuty, Security Hub): the error code travels in `x-amzn-ErrorType`, the body may type it finer. */
export const restJsonSuccess = (requestId: string, output: Record<string, unknown>): HttpReply => ({
  status: 200,
  headers: { 'content-type': 'application/json', 'x-amzn-RequestId': requestId },
  body: JSON.stringify(output),
});

/**
 * GuardDuty's error bodies carry `message` and `__type`; Security Hub's `Code` and `Message` (its
 * errors' members, spelt as its API spells every member).
 */
export const restJsonError = (
  fault: AwsFault,
  requestId: string,
  body: 'guardduty' | 'securityhub' = 'guardduty',
): HttpReply => ({
  status: fault.status,
  headers: {
    'content-type': 'application/json',
    'x-amzn-RequestId': requestId,
    'x-amzn-ErrorType': fault.code,
  },
  body: JSON.stringify(
    body === 'securityhub'
      ? { Code: fault.code, Message: fault.message, ...fault.fields }
      : { message: fault.message, __type: fault.code, ...fault.fields },
  ),
  errorCode: fault.code,
});

/** S3's request ids are 16 upper-case hex digits, with a base64 "host id" beside them. */
export const newS3RequestId = (): string => randomBytes(8).toString('hex').toUpperCase();

const s3Headers = (requestId: string, contentType?: string): Record<string, string> => ({
  ...(contentType === undefined ? {} : { 'content-type': contentType }),
  'x-amz-request-id': requestId,
  'x-amz-id-2': randomBytes(24).toString('base64'),
});

export interface S3Document {
  root: string;
  content: XmlObject;
  /** Element name of list entries (`Tag` in a TagSet). */
  itemName: string;
}

export const s3Success = (requestId: string, status: number, document?: S3Document): HttpReply =>
  document === undefined
    ? { status, headers: s3Headers(requestId), body: '' }
    : {
        status,
        headers: s3Headers(requestId, 'application/xml'),
        body:
          `${XML_DECLARATION}<${document.root} xmlns="${S3_NAMESPACE}">` +
          `${children(document.content, document.itemName)}</${document.root}>`,
      };

export const s3Error = (fault: AwsFault, requestId: string): HttpReply => {
  const headers = s3Headers(requestId, 'application/xml');
  const extra = Object.entries(fault.fields)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  return {
    status: fault.status,
    headers,
    body:
      `${XML_DECLARATION}<Error><Code>${escapeXml(fault.code)}</Code><Message>${escapeXml(fault.message)}</Message>` +
      `${extra}<RequestId>${requestId}</RequestId><HostId>${headers['x-amz-id-2']}</HostId></Error>`,
    errorCode: fault.code,
  };
};

export const textReply = (
  status: number,
  requestId: string,
  text: string,
  errorCode?: string,
): HttpReply => ({
  status,
  headers: { 'content-type': 'text/plain', 'x-amzn-RequestId': requestId },
  body: text,
  ...(errorCode === undefined ? {} : { errorCode }),
});
