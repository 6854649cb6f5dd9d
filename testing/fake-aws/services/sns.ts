import { randomUUID } from 'node:crypto';
import { AwsFault } from '../errors.js';
import type { QueryOperation } from '../protocols.js';
import { objectParam, stringParam } from '../query.js';

const invalidParameter = (message: string): AwsFault => new AwsFault('InvalidParameter', message);

const publish: QueryOperation = (params, { state }) => {
  const topicArn = stringParam(params, 'TopicArn') ?? stringParam(params, 'TargetArn');
  if (topicArn === undefined) {
    throw invalidParameter(
      'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
    );
  }
  const message = stringParam(params, 'Message');
  if (message === undefined || message === '') throw invalidParameter('Invalid parameter: Empty message');
  const subject = stringParam(params, 'Subject');
  if (subject !== undefined && (subject.length > 100 || /[\r\n]/.test(subject))) {
    throw invalidParameter('Invalid parameter: Subject');
  }
  const topic = state.topics.get(topicArn);
  if (!topic) throw new AwsFault('NotFound', 'Topic does not exist', 404);
  const messageId = randomUUID();
  topic.messages.push({
    messageId,
    message,
    messageAttributes: objectParam(params, 'MessageAttributes') ?? {},
    at: new Date().toISOString(),
    ...(subject === undefined ? {} : { subject }),
  });
  return { MessageId: messageId };
};

export const snsOperations: Record<string, QueryOperation> = { Publish: publish };
