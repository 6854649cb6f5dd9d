// The Python baseline's work (../naive_responder.py) on Node.js with no SDK at all: requests signed with
// SigV4 by hand over node:https. A cold-start reference for what the runtime itself costs; it has none of
// an SDK's retries, credential sources, endpoint rules or error model, which is why it is only a yardstick.
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

const HARD_CODED_BUCKET = 'acme-customer-exports';
const env = process.env;

const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
const encode = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** One signed request (Signature Version 4): the body as text, or an error for a status of 300 and above. */
const send = (service, method, path, body, headers) =>
  new Promise((resolve, reject) => {
    const region = env.AWS_REGION;
    const base =
      env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ??
      env.AWS_ENDPOINT_URL ??
      `https://${service}.${region}.amazonaws.com`;
    const url = new URL(path, base);
    const stamp = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const day = stamp.slice(0, 8);
    const signed = { ...headers, host: url.host, 'x-amz-date': stamp, 'x-amz-content-sha256': sha256(body) };
    if (env.AWS_SESSION_TOKEN) signed['x-amz-security-token'] = env.AWS_SESSION_TOKEN;
    const names = Object.keys(signed).sort();
    const query = [...url.searchParams]
      .map(([k, v]) => `${encode(k)}=${encode(v)}`)
      .sort()
      .join('&');
    const canonical = [
      method,
      url.pathname,
      query,
      ...names.map((name) => `${name}:${signed[name]}`),
      '',
      names.join(';'),
      signed['x-amz-content-sha256'],
    ].join('\n');
    const scope = `${day}/${region}/${service}/aws4_request`;
    const key = hmac(
      hmac(hmac(hmac(`AWS4${env.AWS_SECRET_ACCESS_KEY}`, day), region), service),
      'aws4_request',
    );
    const signature = hmac(key, `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${sha256(canonical)}`).toString('hex');
    signed.authorization = `AWS4-HMAC-SHA256 Credential=${env.AWS_ACCESS_KEY_ID}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method, headers: signed },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          text += chunk;
        });
        response.on('end', () =>
          response.statusCode < 300
            ? resolve(text)
            : reject(new Error(`${service} answered ${response.statusCode}: ${text}`)),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });

const ec2 = (params) =>
  send('ec2', 'POST', '/', new URLSearchParams({ ...params, Version: '2016-11-15' }).toString(), {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
  });

export const handler = async (event) => {
  const disassociated = [];
  const associations = await ec2({ Action: 'DescribeIamInstanceProfileAssociations' });
  for (const [, id] of associations.matchAll(/<associationId>([^<]+)<\/associationId>/g)) {
    await ec2({ Action: 'DisassociateIamInstanceProfile', AssociationId: id });
    disassociated.push(id);
  }
  const block = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets']
    .map((name) => `<${name}>true</${name}>`)
    .join('');
  const body = `<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${block}</PublicAccessBlockConfiguration>`;
  // Path-style, as against fake-aws; S3 requires an integrity header on this call.
  await send('s3', 'PUT', `/${HARD_CODED_BUCKET}?publicAccessBlock`, body, {
    'content-type': 'application/xml',
    'content-md5': createHash('md5').update(body).digest('base64'),
  });
  return { finding: event.detail?.id, disassociated };
};
