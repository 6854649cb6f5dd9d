import type { PublishCommandOutput } from '@aws-sdk/client-sns';
import {
  type ActionContext,
  describeResource,
  ExecutionError,
  type Finding,
  type StepSummary,
} from '@riposte/core';
import { type Mutation, mutation } from '../call.js';
import type { AwsServices } from '../clients.js';
import type { DocumentedAction } from '../docs.js';
import { executeAction, planAction } from '../session.js';
import { targetOf } from '../targets.js';

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

const describeActor = (finding: Finding): string | undefined => {
  const actor = finding.actor;
  if (!actor?.remoteIp && !actor?.country) return undefined;
  const place = [actor.city, actor.country].filter(Boolean).join(', ');
  const org = actor.asnOrg ?? actor.org ?? actor.isp;
  return [actor.remoteIp ?? 'unknown address', place && `(${place})`, org && `via ${org}`]
    .filter(Boolean)
    .join(' ');
};

const describeStep = ([stepId, step]: [string, StepSummary]): string =>
  `- ${stepId}: ${step.action} on ${step.target}: ${step.status}${step.reason ? ` (${step.reason})` : ''}`;

export interface NotificationContent {
  subject: string;
  body: string;
}

/** What a human needs first: what happened, where, to what, by whom, and what Riposte did about it. */
export const notificationContent = (ctx: Context): NotificationContent => {
  const { finding } = ctx;
  const subject = `Riposte: ${finding.severityLabel} ${finding.type.name}`;
  const actor = describeActor(finding);
  const lines = [
    `${finding.severityLabel} GuardDuty finding ${finding.type.name} in account ${finding.accountId} (${finding.region}).`,
    ...(finding.title ? [finding.title] : []),
    '',
    `Severity: ${finding.severity} (${finding.severityLabel}); seen ${finding.count} time(s)${finding.updatedAt ? `, last updated ${finding.updatedAt}` : ''}.`,
    `Finding: ${finding.arn ?? finding.id}${finding.sample ? ' (GuardDuty sample finding)' : ''}`,
    'Resources:',
    ...(finding.resources.length > 0
      ? finding.resources.map((r) => `- ${describeResource(r)}`)
      : ['- none named']),
    ...(actor ? [`Actor: ${actor}`] : []),
    ...(finding.techniques.length > 0
      ? [`ATT&CK: ${finding.techniques.map((technique) => `${technique.id} ${technique.name}`).join(', ')}`]
      : []),
    '',
    `Response (playbook ${ctx.playbook}, ${ctx.mode}):`,
    ...(ctx.previous.size > 0
      ? [...ctx.previous].map(describeStep)
      : ['- no steps ran before this notification']),
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

const destinationsOf = (ctx: Context): Destinations | { reason: string } => {
  const topicArn = ctx.params.topicArn ?? ctx.services.env.RIPOSTE_SNS_TOPIC_ARN;
  const webhookUrl = ctx.params.webhookUrl ?? ctx.services.env.RIPOSTE_WEBHOOK_URL;
  if (!topicArn && !webhookUrl) {
    return {
      reason:
        'no destination: give params.topicArn or params.webhookUrl, or set RIPOSTE_SNS_TOPIC_ARN or RIPOSTE_WEBHOOK_URL',
    };
  }
  if (topicArn && !new RegExp(TOPIC_ARN_PATTERN).test(topicArn)) {
    return { reason: `the SNS topic ARN ${topicArn} is not a valid topic ARN` };
  }
  let webhook: URL | undefined;
  if (webhookUrl) {
    // The URL is a secret: a bad one is reported without echoing it.
    if (!URL.canParse(webhookUrl) || !/^https?:$/.test(new URL(webhookUrl).protocol)) {
      return { reason: 'the webhook URL is not a valid http(s) URL' };
    }
    webhook = new URL(webhookUrl);
  }
  return { ...(topicArn ? { topicArn } : {}), ...(webhook ? { webhook } : {}) };
};

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
    throw new ExecutionError('WebhookUnreachable', `the webhook at ${destination} could not be reached`, {
      retryable: true,
      details: { destination },
    });
  }
  await response.body?.cancel();
  if (!response.ok) {
    throw new ExecutionError(
      'WebhookRejected',
      `the webhook at ${destination} answered HTTP ${response.status}`,
      {
        retryable: response.status === 429 || response.status >= 500,
        details: { destination, httpStatusCode: response.status },
      },
    );
  }
  return {};
};

const publish = (
  ctx: Context,
  topicArn: string,
  content: NotificationContent,
): Mutation<PublishCommandOutput> => {
  const input = {
    TopicArn: topicArn,
    Subject: asciiSubject(content.subject),
    Message: truncateBytes(content.body, MESSAGE_MAX_BYTES),
  };
  return mutation('SNS', 'Publish', input, async () => {
    const { PublishCommand } = await import('@aws-sdk/client-sns');
    return (await ctx.services.sns(topicScope(topicArn))).send(new PublishCommand(input));
  });
};

const post = (ctx: Context, webhook: URL, content: NotificationContent): Mutation => {
  const input = { destination: maskWebhook(webhook), body: slackPayload(content) };
  return mutation('Webhook', 'POST', input, () => postWebhook(ctx, webhook, content));
};

const mutations = (ctx: Context, destinations: Destinations, content: NotificationContent): Mutation[] => [
  ...(destinations.topicArn ? [publish(ctx, destinations.topicArn, content)] : []),
  ...(destinations.webhook ? [post(ctx, destinations.webhook, content)] : []),
];

/**
 * Tells people what happened and what Riposte did: SNS and/or a Slack-compatible webhook. Not
 * idempotent by design: each handling of a finding sends one notification; the engine's idempotency
 * store is what keeps a redelivered finding from notifying twice.
 */
export const notify: DocumentedAction<NotifyParams, AwsServices> = {
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
        description: 'Slack-compatible incoming webhook (default: RIPOSTE_WEBHOOK_URL). Never logged.',
        pattern: '^https?://',
      },
      message: { type: 'string', description: 'Extra text appended to the notification.', maxLength: 4000 },
    },
  },
  permissions: ['sns:Publish'],
  resourceKinds: ['finding'],
  example: ['- action: notify', '  params:', '    message: Paging the on-call responder.'].join('\n'),
  idempotency:
    "None by design: one notification per handling; the engine's idempotency store stops duplicate deliveries.",
  dryRun:
    'Lists SNS Publish with the exact subject and message, and the webhook POST (destination masked as webhook:<host>) with its payload.',

  targets: (finding) => ({
    targets: [
      targetOf(finding, 'finding', finding.id, `finding ${finding.id}`, {
        ...(finding.arn === undefined ? {} : { arn: finding.arn }),
      }),
    ],
  }),

  plan: (ctx) =>
    planAction(async () => {
      const destinations = destinationsOf(ctx);
      if ('reason' in destinations) return { status: 'refused', reason: destinations.reason, calls: [] };
      return {
        status: 'planned',
        calls: mutations(ctx, destinations, notificationContent(ctx)).map((item) => item.call),
      };
    }),

  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const destinations = destinationsOf(ctx);
      if ('reason' in destinations) return { status: 'skipped', reason: destinations.reason };
      const errors: ExecutionError[] = [];
      // Every destination is tried, even after one fails: a broken webhook must not silence SNS.
      for (const item of mutations(ctx, destinations, notificationContent(ctx))) {
        const result = await session.attempt(item);
        if (!result.ok) errors.push(result.error);
      }
      const [first] = errors;
      if (first) session.fail(first);
      return { status: 'applied' };
    }),
};
