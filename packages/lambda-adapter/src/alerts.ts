import { type AwsServices, oneLine, quoted } from '@riposte/actions';
import type { EngineMode, Finding } from '@riposte/core';
import type { Logger } from './logger.js';
import { snsSdk } from './sdk.js';

/** Alerts one container sends per hour at most: a flood of forgeries must not become a flood of mail. */
export const MAX_ALERTS_PER_HOUR = 20;

export interface ForgeryAlarmOptions {
  services: AwsServices;
  /** The function's own account and region: the alert goes to its own topic. */
  scope: { accountId: string; region: string };
  topicArn?: string;
  /** In dry-run the alert is logged, never published: the mode is the ceiling for every change. */
  mode: EngineMode;
  logger: Logger;
  clock: () => Date;
}

/**
 * Tells the security team that a finding GuardDuty does not vouch for reached the function: someone
 * can write to its event path. Always logged; published to the function's topic in enforce mode.
 * Publishing is best effort; the refusal stands either way.
 */
export const createForgeryAlarm = (options: ForgeryAlarmOptions) => {
  let windowStart = 0;
  let sent = 0;
  let suppressed = 0;

  const raise = async (delivered: Finding, reason: string): Promise<void> => {
    options.logger.warn(
      {
        code: 'FINDING_UNVERIFIED',
        findingId: oneLine(delivered.id, 80),
        claimedType: oneLine(delivered.type.name, 256),
        claimedAccount: oneLine(delivered.accountId, 20),
        reason,
      },
      'a finding GuardDuty does not vouch for was refused',
    );
    if (options.topicArn === undefined || options.mode === 'dry-run') return;
    const now = options.clock().getTime();
    if (now - windowStart > 3_600_000) {
      windowStart = now;
      sent = 0;
    }
    if (sent >= MAX_ALERTS_PER_HOUR) {
      suppressed += 1;
      return;
    }
    sent += 1;
    const message = [
      'Riposte refused a finding that GuardDuty does not vouch for. Nothing was changed.',
      'Someone who is not GuardDuty can deliver events to this function: check who can write to its',
      'EventBridge bus, queue, topic or invoke permission.',
      '',
      `Claimed finding id: ${quoted(delivered.id, 80)}`,
      `Claimed type: ${quoted(delivered.type.name, 256)}`,
      `Claimed account/region: ${quoted(delivered.accountId, 20)} ${quoted(delivered.region, 30)}`,
      `Why it was refused: ${quoted(reason, 400)}`,
      ...(suppressed > 0 ? [`Earlier alerts not sent (rate limit): ${suppressed}`] : []),
    ].join('\n');
    suppressed = 0;
    try {
      const [sns, { PublishCommand }] = await Promise.all([options.services.sns(options.scope), snsSdk()]);
      await sns.send(
        new PublishCommand({
          TopicArn: options.topicArn,
          Subject: 'Riposte: refused an unverified finding',
          Message: message,
        }),
      );
    } catch (error) {
      options.logger.error({ err: error }, 'could not publish the unverified-finding alert');
    }
  };

  return { raise };
};
