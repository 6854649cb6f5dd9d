import {
  type ActionTarget,
  arnProblem,
  type Finding,
  identifierProblem,
  parseArn,
  quoteIdentifier,
  type StepSummary,
  type TargetResolution,
} from '@riposte/core';
import { invalidAccount, targetOf } from './targets.js';

/**
 * The GuardDuty finding a response is about, as GuardDuty and Security Hub address it: its ARN
 * (`arn:<partition>:guardduty:<region>:<account>:detector/<detectorId>/finding/<findingId>`), which is
 * also the `Id` of its copy in Security Hub, and the region its detector is in (where the calls go).
 */
export interface GuardDutyOrigin {
  arn: string;
  partition: string;
  accountId: string;
  region: string;
  detectorId: string;
  findingId: string;
}

/** `detector/<id>/finding/<id>` of a GuardDuty finding ARN, once `arnProblem` accepted the ARN. */
const FINDING_RESOURCE = /^detector\/([a-z0-9]{1,300})\/finding\/([a-z0-9]{1,300})$/;

/**
 * Where the finding came from in GuardDuty, or why that cannot be told safely. The finding's ARN must
 * be a GuardDuty finding ARN of the finding's partition and account naming the finding's own id; its
 * region may differ from the finding's `region` (GuardDuty has written such findings), and it is where
 * the detector is. A finding without an ARN is placed by `service.detectorId` in its own region.
 * `undefined` when the finding carries neither.
 */
export const guardDutyOrigin = (finding: Finding): GuardDutyOrigin | { problem: string } | undefined => {
  if (finding.arn !== undefined) {
    const problem = arnProblem(finding.arn, {
      partition: finding.partition,
      accountId: finding.accountId,
      service: 'guardduty',
      resourcePrefix: 'detector/',
    });
    if (problem !== undefined) return { problem: `the finding ARN ${problem}` };
    const parts = parseArn(finding.arn)!;
    const match = FINDING_RESOURCE.exec(parts.resource);
    if (!match)
      return { problem: `the finding ARN ${quoteIdentifier(finding.arn)} names no GuardDuty finding` };
    const [, detectorId = '', findingId = ''] = match;
    if (findingId !== finding.id) {
      return {
        problem: `the finding ARN ${quoteIdentifier(finding.arn)} names finding ${quoteIdentifier(findingId)}, not ${quoteIdentifier(finding.id)}`,
      };
    }
    return {
      arn: finding.arn,
      partition: parts.partition,
      accountId: parts.account,
      region: parts.region,
      detectorId,
      findingId,
    };
  }
  const service = (finding.raw.service ?? finding.raw.Service) as Record<string, unknown> | undefined;
  const detectorId = service?.detectorId ?? service?.DetectorId;
  if (detectorId === undefined) return undefined;
  const problem =
    identifierProblem('guardduty-detector-id', detectorId) ??
    identifierProblem('guardduty-finding-id', finding.id) ??
    identifierProblem('account-id', finding.accountId) ??
    identifierProblem('region', finding.region) ??
    identifierProblem('partition', finding.partition);
  if (problem !== undefined) return { problem };
  const { partition, accountId, region, id } = finding;
  return {
    arn: `arn:${partition}:guardduty:${region}:${accountId}:detector/${String(detectorId)}/finding/${id}`,
    partition,
    accountId,
    region,
    detectorId: String(detectorId),
    findingId: id,
  };
};

const isOrigin = (value: ReturnType<typeof guardDutyOrigin>): value is GuardDutyOrigin =>
  value !== undefined && !('problem' in value);

/**
 * The finding itself as the one target, in its detector's region and named by its GuardDuty ARN. A
 * finding whose ARN does not validate stays in the finding's region; planning refuses it.
 */
export const findingTarget = (finding: Finding): TargetResolution => {
  const origin = guardDutyOrigin(finding);
  if (origin === undefined) {
    return { targets: [], reason: 'the finding carries no GuardDuty finding ARN or detector id' };
  }
  const label = `finding ${finding.id}`;
  const target = isOrigin(origin)
    ? targetOf(finding, 'finding', finding.id, label, { arn: origin.arn, region: origin.region })
    : targetOf(finding, 'finding', finding.id, label, finding.arn === undefined ? {} : { arn: finding.arn });
  return { targets: [target] };
};

/**
 * The finding's GuardDuty origin, when the target is exactly the finding `findingTarget` gives (same
 * id, ARN, account and region); else why the step will not act. Checked before any call.
 */
export const originOfTarget = (
  finding: Finding,
  target: ActionTarget,
): { origin: GuardDutyOrigin } | { problem: string } => {
  const origin = guardDutyOrigin(finding);
  if (origin === undefined) return { problem: 'the finding carries no GuardDuty finding ARN or detector id' };
  if (!isOrigin(origin)) return origin;
  const invalid = invalidAccount(target, finding);
  if (invalid !== undefined) return { problem: invalid };
  if (
    target.kind !== 'finding' ||
    target.id !== finding.id ||
    target.arn !== origin.arn ||
    target.region !== origin.region
  ) {
    return {
      problem: `the target ${quoteIdentifier(target.label)} is not the finding's GuardDuty finding ${quoteIdentifier(origin.arn)} in ${origin.region}`,
    };
  }
  return { origin };
};

/** Security Hub's product ARN of GuardDuty in a region: the `ProductArn` of every GuardDuty finding's copy. */
export const guardDutyProductArn = (partition: string, region: string): string =>
  `arn:${partition}:securityhub:${region}::product/aws/guardduty`;

/** Step statuses that mean the response is not finished: a person still has to look at the finding. */
const UNFINISHED = new Set(['held', 'failed', 'not-run']);

/** The steps before this one that are held, failed or did not run. */
export const unfinishedSteps = (previous: ReadonlyMap<string, StepSummary>): StepSummary[] =>
  [...previous.values()].filter((step) => UNFINISHED.has(step.status));
