import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthorizationErrorException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type Finding, hasInverse, type StepSummary } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  lockUserSql,
  notificationContent,
  notify,
  slackPayload,
  truncateBytes,
} from '../../src/actions/notify.js';
import { createAwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, sentCommands } from '../helpers/context.js';
import {
  ACCOUNT,
  commandAndControl,
  INSTANCE_ID,
  instanceCredentialExfiltration,
} from '../helpers/findings.js';
import { rdsSuccessfulLogin } from '../helpers/rds-s3-findings.js';

const sns = mockClient(SNSClient);
const TOPIC = `arn:aws:sns:us-east-2:${ACCOUNT}:security-alerts`;
const SECRET_PATH = '/services/T0SECRET/B0SECRET/x7Zq9SecretToken';

interface Received {
  url?: string;
  contentType?: string;
  body: { text: string; blocks: { type: string; text: { text: string } }[] };
}

// Webhooks must be https://; the test server speaks http on 127.0.0.1, so `fetch` forwards to it.
const WEBHOOK_ORIGIN = 'https://hooks.slack.example';
const webhookUrl = `${WEBHOOK_ORIGIN}${SECRET_PATH}`;
let server: Server;
let serverOrigin: string;
let forwardTo: string;
let fetched: string[] = [];
let received: Received[] = [];
let status = 200;

const forwardingFetch: typeof fetch = (input, init) => {
  fetched.push(String(input));
  return globalThis.fetch(String(input).replace(WEBHOOK_ORIGIN, forwardTo), init);
};

const listen = (target: Server): Promise<number> =>
  new Promise((resolve) =>
    target.listen(0, '127.0.0.1', () => resolve((target.address() as AddressInfo).port)),
  );

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      received.push({
        url: request.url,
        contentType: request.headers['content-type'],
        body: JSON.parse(body),
      });
      response.statusCode = status;
      response.end(status === 200 ? 'ok' : 'invalid_payload');
    });
  });
  serverOrigin = `http://127.0.0.1:${await listen(server)}`;
});

afterAll(async () => {
  sns.restore();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  sns.reset();
  forwardTo = serverOrigin;
  fetched = [];
  received = [];
  status = 200;
});

const previous = new Map<string, StepSummary>([
  [
    'detach-instance-profile',
    {
      action: 'detach-instance-profile',
      target: `instance ${INSTANCE_ID} (credential source)`,
      status: 'applied',
    },
  ],
  [
    'revoke-role-sessions',
    {
      action: 'revoke-role-sessions',
      target: 'role app-server-s3-full',
      status: 'skipped',
      reason: 'already revoked',
    },
  ],
]);

const context = (
  env: Record<string, string>,
  params: Record<string, string> = {},
  options: { finding?: Finding; previous?: Map<string, StepSummary> } = {},
) =>
  contextFor(notify, options.finding ?? instanceCredentialExfiltration(), {
    services: createAwsServices({ env, fetch: forwardingFetch }),
    params,
    previous: options.previous ?? previous,
  });

/** Every character that could end or fake a line, or hide text, in a report. */
const LINE_BREAKERS = /[\p{Cc}\p{Zl}\p{Zp}\u202a-\u202e\u2066-\u2069]/u;

describe('notify targets and content', () => {
  it('targets the finding itself', () => {
    const finding = instanceCredentialExfiltration();

    expect(notify.targets(finding, {}).targets).toEqual([
      expect.objectContaining({ kind: 'finding', id: finding.id, arn: finding.arn }),
    ]);
  });

  it("summarises the finding's key facts and what was done", () => {
    const { subject, body } = notificationContent(context({}, { message: 'Paging the on-call responder.' }));

    expect(subject).toBe(
      'Riposte: High UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
    );
    expect(body).toContain('in account 973743533182 (us-east-2)');
    expect(body).toContain('Severity: 8 (High); seen 4 time(s), last updated 2022-01-28T21:12:25.495Z.');
    expect(body).toContain(`- EC2 instance ${INSTANCE_ID} (credential source)`);
    expect(body).toContain('- access key ASIA6FLOREXAMPLEKEY7 (AssumedRole app-server-s3-full)');
    expect(body).toContain('Actor: 81.2.69.144 (London, United Kingdom) via ExampleNet Ltd');
    expect(body).toContain(
      `- detach-instance-profile: detach-instance-profile on instance ${INSTANCE_ID} (credential source): applied`,
    );
    expect(body).toContain(
      '- revoke-role-sessions: revoke-role-sessions on role app-server-s3-full: skipped ("already revoked")',
    );
    expect(body).toContain(
      `Title: "Credentials for instance role app-server-s3-full used from external IP address."`,
    );
    expect(body).not.toContain('Not done');
    expect(body.endsWith('Paging the on-call responder.')).toBe(true);
  });

  it('escapes Slack control characters in the webhook payload', () => {
    const ctx = contextFor(notify, commandAndControl(), { env: {} });

    const payload = slackPayload(notificationContent(ctx));

    expect(payload.text).toContain('Backdoor:EC2/C&amp;CActivity.B');
    expect(payload.text).not.toMatch(/&(?!amp;|lt;|gt;)/);
  });

  it('truncates by bytes without splitting a multi-byte character', () => {
    const text = 'é'.repeat(100);

    const cut = truncateBytes(text, 51);

    expect(new TextEncoder().encode(cut).length).toBeLessThanOrEqual(51);
    expect(cut).not.toContain('\uFFFD');
    expect(cut.endsWith('[truncated]')).toBe(true);
    expect(truncateBytes('short', 51)).toBe('short');
  });
});

describe('notify plan', () => {
  it('plans an SNS publish and a masked webhook post', async () => {
    const plan = await notify.plan(
      context({ RIPOSTE_SNS_TOPIC_ARN: TOPIC, RIPOSTE_WEBHOOK_URL: webhookUrl }),
    );

    expect(plan.status).toBe('planned');
    expect(plan.calls.map((call) => [call.service, call.operation, call.mutating])).toEqual([
      ['SNS', 'Publish', true],
      ['Webhook', 'POST', true],
    ]);
    expect(plan.calls[0]?.input).toMatchObject({
      TopicArn: TOPIC,
      Subject: 'Riposte: High UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
    });
    expect(plan.calls[1]?.input).toMatchObject({ destination: `webhook:${new URL(webhookUrl).host}` });
    expect(JSON.stringify(plan)).not.toContain('SECRET');
  });

  it('prefers the destinations the playbook gives over the environment', async () => {
    const other = 'arn:aws:sns:eu-west-1:111122223333:team-alerts';

    const plan = await notify.plan(context({ RIPOSTE_SNS_TOPIC_ARN: TOPIC }, { topicArn: other }));

    expect(plan.calls.map((call) => call.input.TopicArn)).toEqual([other]);
  });

  it('refuses when no destination is configured, saying every way to set one', async () => {
    const plan = await notify.plan(context({}));

    expect(plan.status).toBe('refused');
    expect(plan.reason).toMatch(/^no notification: no destination is set\./);
    for (const setting of [
      'params.topicArn',
      'RIPOSTE_SNS_TOPIC_ARN',
      'NotificationTopicArn',
      'params.webhookUrl',
      'RIPOSTE_WEBHOOK_URL',
    ]) {
      expect(plan.reason).toContain(setting);
    }
  });

  it('refuses a malformed webhook URL without echoing it', async () => {
    const plan = await notify.plan(context({ RIPOSTE_WEBHOOK_URL: 'hooks.example.com/SECRET' }));

    expect(plan).toMatchObject({
      status: 'refused',
      reason: 'the webhook URL is not a valid https:// URL (value not shown)',
    });
  });

  it.each([
    ['RIPOSTE_WEBHOOK_URL', { RIPOSTE_WEBHOOK_URL: `http://hooks.slack.example${SECRET_PATH}` }, {}],
    ['params.webhookUrl', {}, { webhookUrl: `http://hooks.slack.example${SECRET_PATH}` }],
  ])('refuses an http:// webhook from %s, sends nothing and never shows the URL', async (_, env, params) => {
    const ctx = context({ RIPOSTE_SNS_TOPIC_ARN: TOPIC, ...env }, params);

    const plan = await notify.plan(ctx);
    const outcome = await notify.execute(ctx, plan);

    expect(plan).toMatchObject({
      status: 'refused',
      reason: 'the webhook URL is not a valid https:// URL (value not shown)',
      calls: [],
    });
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(fetched).toEqual([]);
    expect(sentCommands(sns)).toEqual([]);
    expect(JSON.stringify([plan, outcome])).not.toContain('SECRET');
  });

  it('refuses an http:// webhook in the params schema', () => {
    const registry = createRegistry();

    expect(
      registry.validateParams('notify', { webhookUrl: `http://hooks.slack.example${SECRET_PATH}` }),
    ).toEqual([expect.objectContaining({ pointer: '/webhookUrl' })]);
    expect(registry.validateParams('notify', { webhookUrl: webhookUrl })).toEqual([]);
  });

  it('sends nothing while planning', async () => {
    await notify.plan(context({ RIPOSTE_SNS_TOPIC_ARN: TOPIC, RIPOSTE_WEBHOOK_URL: webhookUrl }));

    expect(sentCommands(sns)).toEqual([]);
    expect(received).toEqual([]);
  });
});

describe('notify execute', () => {
  it('publishes to SNS in the topic region and posts Slack-compatible JSON', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'msg-1', $metadata: { requestId: 'publish-1' } });
    const ctx = context({ RIPOSTE_SNS_TOPIC_ARN: TOPIC, RIPOSTE_WEBHOOK_URL: webhookUrl });
    const plan = await notify.plan(ctx);

    const outcome = await notify.execute(ctx, plan);

    expect(outcome.status).toBe('applied');
    expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input)).toEqual([
      plan.calls[0]?.input,
    ]);
    expect(await (sns.call(0).thisValue as SNSClient).config.region()).toBe('us-east-2');
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ url: SECRET_PATH, contentType: 'application/json' });
    expect(received[0]?.body.blocks.map((block) => block.type)).toEqual(['header', 'section']);
    expect(received[0]?.body.text).toContain(
      'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
    );
    expect(outcome.calls.map((call) => [call.operation, call.errorCode])).toEqual([
      ['Publish', undefined],
      ['POST', undefined],
    ]);
    expect(JSON.stringify(outcome)).not.toContain('SECRET');
  });

  it('sends again when executed again: idempotency is left to the engine', async () => {
    const ctx = context({ RIPOSTE_WEBHOOK_URL: webhookUrl });

    await notify.execute(ctx, await notify.plan(ctx));
    await notify.execute(ctx, await notify.plan(ctx));

    expect(received).toHaveLength(2);
  });

  it('skips with the reason when no destination is configured', async () => {
    const ctx = context({});

    const outcome = await notify.execute(ctx, await notify.plan(ctx));

    expect(outcome).toMatchObject({ status: 'skipped', calls: [] });
  });

  it('reports the SNS error code and still posts to the webhook', async () => {
    sns.on(PublishCommand).rejects(
      new AuthorizationErrorException({
        message: 'User is not authorized to perform: SNS:Publish',
        $metadata: { httpStatusCode: 403, requestId: 'denied-1' },
      }),
    );
    const ctx = context({ RIPOSTE_SNS_TOPIC_ARN: TOPIC, RIPOSTE_WEBHOOK_URL: webhookUrl });

    const outcome = await notify.execute(ctx, await notify.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'AuthorizationErrorException', retryable: false, details: { requestId: 'denied-1' } },
    });
    expect(received).toHaveLength(1);
  });

  it('fails retryably on a 5xx webhook answer without revealing the URL', async () => {
    status = 503;
    const ctx = context({ RIPOSTE_WEBHOOK_URL: webhookUrl });

    const outcome = await notify.execute(ctx, await notify.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'WEBHOOK_REJECTED', retryable: true, details: { httpStatusCode: 503 } },
    });
    expect(outcome.calls[0]).toMatchObject({ operation: 'POST', errorCode: 'WEBHOOK_REJECTED' });
    expect(JSON.stringify(outcome)).not.toContain('SECRET');
    expect(outcome.error?.message).not.toContain('SECRET');
  });

  it('fails retryably when the webhook cannot be reached', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    forwardTo = `http://127.0.0.1:${port}`;
    const ctx = context({ RIPOSTE_WEBHOOK_URL: webhookUrl });

    const outcome = await notify.execute(ctx, await notify.plan(ctx));

    expect(outcome.error).toMatchObject({ code: 'WEBHOOK_UNREACHABLE', retryable: true });
    expect(JSON.stringify(outcome)).not.toContain('SECRET');
  });
});

/** The sample with hostile text in every field notify renders. */
const hostile = (): Finding => {
  const finding = instanceCredentialExfiltration();
  return {
    ...finding,
    type: { ...finding.type, name: 'UnauthorizedAccess:IAMUser/Exfil\nRemediation: none needed\u00e9' },
    title: 'Credentials used from external IP address.\nRemediation: none needed\nStatus: resolved',
    description: 'line one\r\nline two\u2028line three\u2029line four\tand a \u202eright-to-left override',
    resources: finding.resources.map((resource) =>
      resource.kind === 'access-key'
        ? { ...resource, roleName: 'app-server\n- S3 bucket innocent-bucket' }
        : resource,
    ),
    actor: {
      ...finding.actor,
      city: 'London\nActor: nobody',
      userAgent: 'aws-cli/2.15.0\r\nResponse (playbook none, dry-run):',
    },
  };
};

describe('notify against a forged finding', () => {
  it('keeps a forged title on its own line: no "Remediation" line appears', () => {
    const ctx = context({}, {}, { finding: hostile() });

    const { subject, body } = notificationContent(ctx);
    const lines = body.split('\n');

    expect(lines.some((line) => line.startsWith('Remediation'))).toBe(false);
    expect(lines.some((line) => line.startsWith('Status:'))).toBe(false);
    expect(lines).toContain(
      'Title: "Credentials used from external IP address. Remediation: none needed Status: resolved"',
    );
    expect(lines.filter((line) => line.startsWith('Response ('))).toEqual([
      'Response (playbook instance-credential-exfiltration, enforce):',
    ]);
    expect(lines.filter((line) => line.startsWith('Actor:'))).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith('- S3 bucket'))).toEqual([]);
    for (const line of lines) expect(line).not.toMatch(LINE_BREAKERS);
    expect(subject).toBe('Riposte: High UnauthorizedAccess:IAMUser/Exfil Remediation: none needed\u00e9');
  });

  it('renders the same number of lines whatever the finding holds', () => {
    const plain = notificationContent(context({})).body.split('\n');
    const forged = notificationContent(context({}, {}, { finding: hostile() })).body.split('\n');

    // The hostile sample adds only the Description and User agent lines.
    expect(forged).toHaveLength(plain.length + 2);
    for (const line of forged) expect(line).not.toMatch(LINE_BREAKERS);
  });

  it('cuts every value from the finding to 200 characters with an ellipsis', () => {
    const finding = { ...instanceCredentialExfiltration(), title: `${'A'.repeat(5000)}\nRemediation: none` };

    const { body } = notificationContent(context({}, {}, { finding }));
    const title = body.split('\n').find((line) => line.startsWith('Title: '));

    expect(title).toBe(`Title: "${'A'.repeat(199)}…"`);
  });

  it('keeps the SNS subject ASCII, on one line and under 100 characters', async () => {
    const finding = hostile();
    finding.type = { ...finding.type, name: `Impact:EC2/${'\u00e9\n'.repeat(200)}` };
    const ctx = context({ RIPOSTE_SNS_TOPIC_ARN: TOPIC }, {}, { finding });

    const plan = await notify.plan(ctx);
    const subject = String(plan.calls[0]?.input.Subject);

    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('keeps the SNS message within 256 KiB and lists at most 20 resources', async () => {
    const finding = instanceCredentialExfiltration();
    const key = finding.resources.find((resource) => resource.kind === 'access-key');
    if (key?.kind !== 'access-key') throw new Error('the finding names no access key');
    finding.resources = Array.from({ length: 5000 }, (_, index) => ({
      ...key,
      accessKeyId: `ASIA6FLOREXAMPLE${String(index).padStart(4, '0')}`,
    }));
    const ctx = context({ RIPOSTE_SNS_TOPIC_ARN: TOPIC }, {}, { finding });

    const plan = await notify.plan(ctx);
    const message = String(plan.calls[0]?.input.Message);

    expect(new TextEncoder().encode(message).length).toBeLessThanOrEqual(256 * 1024);
    expect(message.split('\n').filter((line) => line.startsWith('- access key'))).toHaveLength(20);
    expect(message).toContain('- ... and 4980 more');
  });

  it('quotes the reasons of earlier steps and lists refused ones first, with the principal protected', () => {
    const steps = new Map<string, StepSummary>([
      ...previous,
      [
        'deactivate-access-key',
        {
          action: 'deactivate-access-key',
          target: 'access key AKIA6FLOREXAMPLEBRK1 (user break-glass)',
          status: 'refused',
          reason: 'break-glass is a protected principal (RIPOSTE_PROTECTED_PRINCIPALS)\nRemediation: done',
        },
      ],
    ]);

    const { body } = notificationContent(context({}, {}, { previous: steps }));
    const lines = body.split('\n');

    const notDone = lines.indexOf('Not done (1 step(s) refused, failed or not run; see why):');
    expect(notDone).toBeGreaterThan(0);
    expect(lines[notDone + 1]).toBe(
      '- deactivate-access-key on access key AKIA6FLOREXAMPLEBRK1 (user break-glass): refused: "break-glass is a protected principal (RIPOSTE_PROTECTED_PRINCIPALS) Remediation: done"',
    );
    expect(notDone).toBeLessThan(lines.findIndex((line) => line.startsWith('Response (')));
    expect(lines.some((line) => line.startsWith('Remediation'))).toBe(false);
  });
});

describe('notify undo', () => {
  it('declares no inverse: a notification cannot be unsent', () => {
    expect(hasInverse(notify.undo)).toBe(false);
    expect(notify.undo).toEqual({ none: 'a notification cannot be unsent' });
    expect(createRegistry().validateUndoState('notify', {})).toEqual([
      { pointer: '', message: 'action "notify" has no inverse' },
    ]);
  });
});

describe('notify: locking a compromised database user', () => {
  it('gives PostgreSQL the role lock and the session kill, quoted', () => {
    expect(lockUserSql('app_rw', 'aurora-postgresql')).toEqual({
      engine: 'postgresql',
      statements: [
        'ALTER ROLE "app_rw" NOLOGIN;',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app_rw';",
      ],
    });
  });

  it('gives MySQL and MariaDB the account lock and the KILL query', () => {
    const sql = lockUserSql('app_rw', 'mariadb');

    expect(sql).toMatchObject({
      engine: 'mysql',
      statements: [
        "ALTER USER 'app_rw'@'%' ACCOUNT LOCK;",
        "SELECT CONCAT('KILL ', id, ';') FROM information_schema.processlist WHERE user = 'app_rw';",
        expect.stringContaining('mysql.user'),
      ],
    });
  });

  it('escapes quotes in a hostile name for each engine', () => {
    expect(lockUserSql(`x"; DROP TABLE t; --'`, 'postgres')).toMatchObject({
      statements: [
        `ALTER ROLE "x""; DROP TABLE t; --'" NOLOGIN;`,
        expect.stringContaining(`usename = 'x"; DROP TABLE t; --'''`),
      ],
    });
    expect(lockUserSql(`a'@'%' IDENTIFIED BY 'p`, 'mysql')).toMatchObject({
      statements: [
        expect.stringMatching(/^ALTER USER 'a''@''%'' IDENTIFIED BY ''p'@'%' ACCOUNT LOCK;$/),
        expect.any(String),
        expect.any(String),
      ],
    });
  });

  it('refuses names that cannot be quoted safely, and unknown engines, saying so', () => {
    for (const name of ['a\\b', 'a\nb', 'ädmin', 'x'.repeat(64)]) {
      expect(lockUserSql(name, 'postgres')).toEqual({
        refused: expect.stringContaining('cannot be quoted safely'),
      });
    }
    expect(lockUserSql('app_rw', 'sqlserver-ee')).toEqual({
      refused: expect.stringContaining('not PostgreSQL, MySQL or MariaDB'),
    });
  });

  it('puts the SQL for the user the finding names in the notification', () => {
    const content = notificationContent(contextFor(notify, rdsSuccessfulLogin()));

    expect(content.body).toContain('Database user "app_rw" on "orders-db" (postgres)');
    expect(content.body).toContain('    ALTER ROLE "app_rw" NOLOGIN;');
  });

  it('says why there is no SQL for a hostile name, on one line', () => {
    const content = notificationContent(contextFor(notify, rdsSuccessfulLogin({ user: 'evil\\\nname' })));

    expect(content.body).toContain('no SQL: the user name has characters that cannot be quoted safely');
    expect(content.body).not.toContain('NOLOGIN');
  });
});
