import {
  type ActionContext,
  defineAction,
  describeResource,
  type ExecutionError,
  type Finding,
  type PermissionGrant,
  type RdsUserResource,
  resourcesOfKind,
  type StepSummary,
} from '@riposte/core';
import { awsCall, type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import { ActionExecutionError } from '../error-codes.js';
import { executeAction } from '../session.js';
import { type Inspection, planned, planWith, refused } from '../step.js';
import { refusal, shown, targetOf } from '../targets.js';

export type NotifyParams = {
  topicArn?: string;
  webhookUrl?: string;
  message?: string;
};

type Context = ActionContext<NotifyParams, AwsServices>;

// SNS: subjects are ASCII and "less than 100 characters"; messages at most 256 KiB.
const SUBJECT_MAX = 99;
const MESSAGE_MAX_BYTES = 256 * 1024;
// Slack: header text 150 characters, section text 3000.
const SLACK_HEADER_MAX = 150;
const SLACK_SECTION_MAX = 3000;
const WEBHOOK_TIMEOUT_MS = 10_000;
const TRUNCATED = '\n[truncated]';
// Each value from the finding is cut to this many characters; at most this many resources are listed.
const FIELD_MAX = 200;
const RESOURCES_MAX = 20;
const TOPIC_ARN_PATTERN = '^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$';

/** Cuts text to a UTF-8 byte budget without splitting a character. */
export const truncateBytes = (text: string, maxBytes: number): string => {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  const suffix = new TextEncoder().encode(TRUNCATED).length;
  let end = maxBytes - suffix;
  // Step back over continuation bytes (10xxxxxx) to the start of a character.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return new TextDecoder().decode(bytes.subarray(0, end)) + TRUNCATED;
};

const truncateChars = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - TRUNCATED.length)}${TRUNCATED}`;

const asciiSubject = (text: string): string =>
  text
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, SUBJECT_MAX)
    .trim();

/** Shown wherever the webhook appears: the host only, since the path of a Slack webhook is its secret. */
const maskWebhook = (url: URL): string => `webhook:${url.host}`;

// Control, format (bidi overrides, zero-width), line/paragraph separator and lone surrogate characters.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

/**
 * A value from the finding, fit for one line of the report: every control or separator character
 * (`\r`, `\n`, `\t`, U+2028, U+2029, bidi overrides...) becomes a space, and it is cut to `max`
 * characters with an ellipsis. Nothing a finding holds can start a line of its own.
 */
export const oneLine = (value: unknown, max = FIELD_MAX): string => {
  const chars = [...String(value).replace(UNPRINTABLE, ' ')];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
};

/** Free text from the finding (title, description, user agent, reasons): one line, capped, in double quotes. */
export const quoted = (value: unknown, max = FIELD_MAX): string => JSON.stringify(oneLine(value, max));

const describeActor = (finding: Finding): string | undefined => {
  const actor = finding.actor;
  if (!actor?.remoteIp && !actor?.country) return undefined;
  const place = [actor.city, actor.country].filter(Boolean).join(', ');
  const org = actor.asnOrg ?? actor.org ?? actor.isp;
  return oneLine(
    [actor.remoteIp ?? 'unknown address', place && `(${place})`, org && `via ${org}`]
      .filter(Boolean)
      .join(' '),
  );
};

/** Steps that did not do what the playbook asked: a human must look at these first. */
const NOT_DONE = new Set(['refused', 'failed', 'not-run']);

const describeStep = ([stepId, step]: [string, StepSummary]): string =>
  `- ${oneLine(stepId, 100)}: ${oneLine(step.action, 100)} on ${oneLine(step.target)}: ${oneLine(step.status, 20)}${step.reason ? ` (${quoted(step.reason)})` : ''}`;

const describeNotDone = (step: StepSummary): string =>
  `- ${oneLine(step.action, 100)} on ${oneLine(step.target)}: ${oneLine(step.status, 20)}${step.reason ? `: ${quoted(step.reason)}` : ''}`;

const capped = <T>(items: readonly T[], max: number, render: (item: T) => string): string[] => [
  ...items.slice(0, max).map(render),
  ...(items.length > max ? [`- ... and ${items.length - max} more`] : []),
];

// ---------------------------------------------------------------------------------------------
// Compromised database users: Riposte never connects to a database, so it tells people the exact SQL
// that locks the user the finding names. A user name is attacker-influenced text: it is quoted for the
// engine, and no SQL is produced for a name that cannot be quoted safely.
// ---------------------------------------------------------------------------------------------

export type SqlEngine = 'postgresql' | 'mysql';

/** The SQL that locks a database user, or why there is none. */
export type LockSql = { engine: SqlEngine; statements: string[] } | { refused: string };

/** The engine family of an RDS engine name (`postgres`, `aurora-postgresql`, `mysql`, `mariadb`, `aurora-mysql`, `aurora`). */
export const sqlEngineOf = (engine: string | undefined): SqlEngine | undefined => {
  const name = engine?.toLowerCase() ?? '';
  if (/postgres/.test(name)) return 'postgresql';
  if (/mysql|mariadb/.test(name) || name === 'aurora') return 'mysql';
  return undefined;
};

// PostgreSQL names are at most 63 bytes (NAMEDATALEN - 1); MySQL and MariaDB user names at most 80
// characters (MariaDB; MySQL 8 allows 32). Only printable ASCII without a backslash can be quoted the
// same way whatever the server's settings (standard_conforming_strings, NO_BACKSLASH_ESCAPES).
const QUOTABLE = /^[\x20-\x5b\x5d-\x7e]+$/;
const USER_MAX: Record<SqlEngine, number> = { postgresql: 63, mysql: 80 };

/** A PostgreSQL identifier: in double quotes, `"` doubled. */
export const pgIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A SQL string literal: in single quotes, `'` doubled (no backslash ever reaches it). */
export const sqlString = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** The statements that lock `user` and end its sessions, for the engine; refused for a name that cannot be quoted. */
export const lockUserSql = (user: string, engine: string | undefined): LockSql => {
  const family = sqlEngineOf(engine);
  if (family === undefined) {
    return {
      refused: `no SQL: the engine ${engine === undefined ? 'is not named by the finding' : `${quoted(engine, 40)} is not PostgreSQL, MySQL or MariaDB`}`,
    };
  }
  if (user.length === 0 || user.length > USER_MAX[family] || !QUOTABLE.test(user)) {
    return {
      refused: `no SQL: the user name has characters that cannot be quoted safely (control or non-ASCII characters, or a backslash) or is longer than ${USER_MAX[family]} characters; find the user's exact name in the database before locking it`,
    };
  }
  if (family === 'postgresql') {
    return {
      engine: family,
      statements: [
        `ALTER ROLE ${pgIdentifier(user)} NOLOGIN;`,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ${sqlString(user)};`,
      ],
    };
  }
  return {
    engine: family,
    statements: [
      `ALTER USER ${sqlString(user)}@'%' ACCOUNT LOCK;`,
      `SELECT CONCAT('KILL ', id, ';') FROM information_schema.processlist WHERE user = ${sqlString(user)};`,
      `-- run each KILL statement the SELECT returns; the user may exist for other hosts too: SELECT host FROM mysql.user WHERE user = ${sqlString(user)};`,
    ],
  };
};

/** The engine of the DB a user logged in to: the user's own, else the finding's DB instance's or Limitless Database's. */
const engineOf = (finding: Finding, user: RdsUserResource): string | undefined =>
  user.engine ??
  resourcesOfKind(finding, 'rds-instance').find((db) => db.engine !== undefined)?.engine ??
  resourcesOfKind(finding, 'rds-limitless-db').find((db) => db.engine !== undefined)?.engine ??
  resourcesOfKind(finding, 'rds-cluster').find((db) => db.engine !== undefined)?.engine;

/** The lines that tell a human how to lock each database user the finding names. */
const databaseUserLines = (finding: Finding): string[] =>
  resourcesOfKind(finding, 'rds-user').flatMap((user) => {
    const engine = engineOf(finding, user);
    const where = user.dbInstanceIdentifier ?? user.dbClusterIdentifier;
    const sql = lockUserSql(user.user, engine);
    return [
      '',
      `Database user ${quoted(user.user, 80)}${where ? ` on ${quoted(where, 80)}` : ''}${engine ? ` (${oneLine(engine, 40)})` : ''}: Riposte does not connect to databases; to lock the user, run as an administrator:`,
      ...('refused' in sql ? [`- ${sql.refused}`] : sql.statements.map((statement) => `    ${statement}`)),
    ];
  });

export interface NotificationContent {
  subject: string;
  body: string;
}

/**
 * What a human needs first: what happened, where, to what, by whom, and what Riposte did about it,
 * starting with what it refused or could not do (and so which principal or resource it protected).
 * Every value from the finding is rendered on its own line's terms (see `oneLine` and `quoted`), so a
 * forged title or reason cannot add lines to the report.
 */
export const notificationContent = (ctx: Context): NotificationContent => {
  const { finding } = ctx;
  const type = oneLine(finding.type.name, 120);
  const label = oneLine(finding.severityLabel, 10);
  const subject = `Riposte: ${label} ${type}`;
  const actor = describeActor(finding);
  const steps = [...ctx.previous];
  const notDone = steps.filter(([, step]) => NOT_DONE.has(step.status));
  const lines = [
    `${label} GuardDuty finding ${type} in account ${oneLine(finding.accountId, 20)} (${oneLine(finding.region, 30)}).`,
    ...(finding.title ? [`Title: ${quoted(finding.title)}`] : []),
    ...(finding.description ? [`Description: ${quoted(finding.description, 500)}`] : []),
    '',
    `Severity: ${oneLine(finding.severity, 10)} (${label}); seen ${oneLine(finding.count, 10)} time(s)${finding.updatedAt ? `, last updated ${oneLine(finding.updatedAt, 40)}` : ''}.`,
    `Finding: ${oneLine(finding.arn ?? finding.id)}${finding.sample ? ' (GuardDuty sample finding)' : ''}`,
    'Resources:',
    ...(finding.resources.length > 0
      ? capped(finding.resources, RESOURCES_MAX, (resource) => `- ${oneLine(describeResource(resource))}`)
      : ['- none named']),
    ...(actor ? [`Actor: ${actor}`] : []),
    ...(finding.actor?.userAgent ? [`User agent: ${quoted(finding.actor.userAgent)}`] : []),
    ...(finding.techniques.length > 0
      ? [
          `ATT&CK: ${oneLine(
            finding.techniques.map((technique) => `${technique.id} ${technique.name}`).join(', '),
            FIELD_MAX * 2,
          )}`,
        ]
      : []),
    '',
    ...(notDone.length > 0
      ? [
          `Not done (${notDone.length} step(s) refused, failed or not run; see why):`,
          ...notDone.map(([, step]) => describeNotDone(step)),
          '',
        ]
      : []),
    `Response (playbook ${oneLine(ctx.playbook, 100)}, ${ctx.mode}):`,
    ...(steps.length > 0 ? steps.map(describeStep) : ['- no steps ran before this notification']),
    ...databaseUserLines(finding),
    ...(ctx.params.message ? ['', ctx.params.message] : []),
  ];
  return { subject, body: lines.join('\n') };
};

const escapeMrkdwn = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Slack-compatible incoming-webhook payload; other chat tools read `text`. */
export const slackPayload = (content: NotificationContent): { text: string; blocks: unknown[] } => ({
  text: escapeMrkdwn(content.body),
  blocks: [
    { type: 'header', text: { type: 'plain_text', text: truncateChars(content.subject, SLACK_HEADER_MAX) } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: truncateChars(escapeMrkdwn(content.body), SLACK_SECTION_MAX) },
    },
  ],
});

interface Destinations {
  topicArn?: string;
  webhook?: URL;
}

type NoDestination = { invalid: boolean; reason: string };

/** Where to send, or why not: none configured, or one that is not valid (then the step is refused). */
const destinationsOf = (ctx: Context): Destinations | NoDestination => {
  const topicArn = ctx.params.topicArn ?? ctx.services.env.RIPOSTE_SNS_TOPIC_ARN;
  const webhookUrl = ctx.params.webhookUrl ?? ctx.services.env.RIPOSTE_WEBHOOK_URL;
  if (!topicArn && !webhookUrl) {
    return {
      invalid: false,
      // Says exactly where a destination can come from, so whoever reads the plan or the report can
      // fix it: the step's params, or the function's environment (which the stack sets from its
      // NotificationTopicArn parameter).
      reason:
        "no notification: no destination is set. Set an SNS topic with params.topicArn on this step or RIPOSTE_SNS_TOPIC_ARN (the function stack's NotificationTopicArn parameter), or a webhook with params.webhookUrl or RIPOSTE_WEBHOOK_URL",
    };
  }
  if (topicArn && !new RegExp(TOPIC_ARN_PATTERN).test(topicArn)) {
    return { invalid: true, reason: `the SNS topic ARN ${shown(topicArn)} is not a valid topic ARN` };
  }
  let webhook: URL | undefined;
  if (webhookUrl) {
    // The URL is a secret: a bad one is reported without echoing it.
    // Only https: the payload names the finding's resources, and the URL's path is a credential.
    if (!URL.canParse(webhookUrl) || new URL(webhookUrl).protocol !== 'https:') {
      return { invalid: true, reason: 'the webhook URL is not a valid https:// URL (value not shown)' };
    }
    webhook = new URL(webhookUrl);
  }
  return { ...(topicArn ? { topicArn } : {}), ...(webhook ? { webhook } : {}) };
};

/**
 * Publish only to the topic the step names, else to the deployment's notification topic
 * (`RIPOSTE_SNS_TOPIC_ARN`, written `{notification-topic}`). A webhook needs no IAM permission.
 */
const grantsFor = (params: NotifyParams): PermissionGrant[] => [
  { actions: ['sns:Publish'], resources: [params.topicArn ?? '{notification-topic}'] },
];

/** Topic ARN `arn:aws:sns:<region>:<account>:<name>`: publish where the topic lives. */
const topicScope = (topicArn: string) => {
  const [, , , region = '', accountId = ''] = topicArn.split(':');
  return { accountId, region };
};

const postWebhook = async (ctx: Context, webhook: URL, content: NotificationContent): Promise<object> => {
  const destination = maskWebhook(webhook);
  let response: Response;
  try {
    response = await ctx.services.fetch(webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(slackPayload(content)),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
  } catch {
    // The fetch error may quote the URL; only the masked destination leaves this function.
    throw new ActionExecutionError(
      'WEBHOOK_UNREACHABLE',
      `the webhook at ${destination} could not be reached`,
      {
        retryable: true,
        details: { destination },
      },
    );
  }
  await response.body?.cancel();
  if (!response.ok) {
    throw new ActionExecutionError(
      'WEBHOOK_REJECTED',
      `the webhook at ${destination} answered HTTP ${response.status}`,
      {
        retryable: response.status === 429 || response.status >= 500,
        details: { destination, httpStatusCode: response.status },
      },
    );
  }
  return {};
};

/** Where to send, and what: the same content to every destination. */
type State = { destinations: Destinations; content: NotificationContent };

/** No reads: where to send (or why not) and what, from the params, the settings and the finding. */
const inspect = async (ctx: Context): Promise<Inspection<State>> => {
  const destinations = destinationsOf(ctx);
  if ('reason' in destinations) return refused(destinations.reason);
  return planned({ destinations, content: notificationContent(ctx) });
};

const mutations = (ctx: Context, { destinations, content }: State): Mutation[] => {
  const { topicArn, webhook } = destinations;
  return [
    ...(topicArn
      ? [
          mutation(
            ctx,
            'sns',
            'Publish',
            {
              TopicArn: topicArn,
              Subject: asciiSubject(content.subject),
              Message: truncateBytes(content.body, MESSAGE_MAX_BYTES),
            },
            { scope: topicScope(topicArn) },
          ),
        ]
      : []),
    ...(webhook
      ? [
          {
            call: awsCall(
              'Webhook',
              'POST',
              { destination: maskWebhook(webhook), body: slackPayload(content) },
              true,
            ),
            send: () => postWebhook(ctx, webhook, content),
          },
        ]
      : []),
  ];
};

/**
 * Tells people what happened and what Riposte did: SNS and/or a Slack-compatible webhook. Not
 * idempotent by design: each handling of a finding sends one notification; the engine's idempotency
 * store is what keeps a redelivered finding from notifying twice. A webhook must be `https://` (the
 * params schema and the run both refuse anything else, without showing the URL); steps that were
 * refused, failed or did not run are listed first, with their reasons.
 */
export const notify = defineAction<NotifyParams, AwsServices>({
  name: 'notify',
  summary:
    'Send a summary of the finding and of the steps taken to an SNS topic and/or a Slack-compatible webhook.',
  phase: 'notify',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      topicArn: {
        type: 'string',
        description: 'SNS topic to publish to (default: RIPOSTE_SNS_TOPIC_ARN).',
        pattern: TOPIC_ARN_PATTERN,
      },
      webhookUrl: {
        type: 'string',
        description:
          'Slack-compatible incoming webhook, https:// only (default: RIPOSTE_WEBHOOK_URL, also https:// only). Never logged.',
        pattern: '^https://',
      },
      message: { type: 'string', description: 'Extra text appended to the notification.', maxLength: 4000 },
    },
    required: [],
  },
  permissions: ['sns:Publish'],
  grants: grantsFor,
  paramExamples: [{ topicArn: 'arn:aws:sns:us-east-1:111122223333:security-alerts' }],
  resourceKinds: ['finding'],
  example: ['- action: notify', '  params:', '    message: Paging the on-call responder.'].join('\n'),
  idempotency:
    "None by design: one notification per handling; the engine's idempotency store stops duplicate deliveries.",
  dryRun:
    'Lists SNS Publish with the exact subject and message, and the webhook POST (destination masked as webhook:<host>) with its payload; refuses a webhook URL that is not https://. Values from the finding are rendered one line each, quoted and capped.',

  targets: (finding) => ({
    targets: [
      targetOf(finding, 'finding', finding.id, `finding ${finding.id}`, {
        ...(finding.arn === undefined ? {} : { arn: finding.arn }),
      }),
    ],
  }),

  plan: planWith({ inspect, mutations }),

  undo: { none: 'a notification cannot be unsent' },

  // Not single-shot: every destination is tried, even after one fails (a broken webhook must not
  // silence SNS), and a missing destination is skipped, not failed.
  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const destinations = destinationsOf(ctx);
      if ('reason' in destinations) {
        if (destinations.invalid) session.fail(refusal(destinations.reason));
        return { status: 'skipped', reason: destinations.reason };
      }
      const errors: ExecutionError[] = [];
      for (const item of mutations(ctx, { destinations, content: notificationContent(ctx) })) {
        const result = await session.attempt(item);
        if (!result.ok) errors.push(result.error);
      }
      const [first] = errors;
      if (first) session.fail(first);
      return { status: 'applied' };
    }),
});
