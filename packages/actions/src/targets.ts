import {
  type ActionTarget,
  arnProblem,
  type ExecutionError,
  type Finding,
  type IdentifierKind,
  type InstanceResource,
  identifierProblem,
  parseArn,
  quoteIdentifier,
  resourcesOfKind,
  type TargetResolution,
} from '@riposte/core';
import { ActionExecutionError } from './error-codes.js';

/** A target named by the finding, in the finding's account and (unless given) region. */
export const targetOf = (
  finding: Finding,
  kind: ActionTarget['kind'],
  id: string,
  label: string,
  options: { arn?: string; region?: string } = {},
): ActionTarget => ({
  kind,
  id,
  ...(options.arn === undefined ? {} : { arn: options.arn }),
  accountId: finding.accountId,
  region: options.region ?? finding.region,
  label,
});

export const instanceTarget = (finding: Finding, instance: InstanceResource): ActionTarget =>
  targetOf(
    finding,
    'instance',
    instance.instanceId,
    instance.role === 'credential-source'
      ? `instance ${instance.instanceId} (credential source)`
      : `instance ${instance.instanceId}`,
    { arn: instance.arn },
  );

/** Every EC2 instance the finding names, the credential source of an exfiltration included. */
export const instanceTargets = (finding: Finding): ActionTarget[] =>
  resourcesOfKind(finding, 'instance').map((instance) => instanceTarget(finding, instance));

export const resolved = (targets: ActionTarget[], reason: string): TargetResolution =>
  targets.length > 0 ? { targets } : { targets, reason };

/** The last segment of an IAM ARN's resource path: `arn:aws:iam::1:instance-profile/a/b` -> `b`. */
export const nameFromArn = (arn: string): string | undefined => {
  const resource = arn.split(':').slice(5).join(':');
  const name = resource.split('/').pop();
  return name === undefined || name === '' || name === resource ? undefined : name;
};

// ---------------------------------------------------------------------------------------------
// Identifier checks. A finding is a claim, not a fact: every identifier it gives is checked (with the
// grammars of @riposte/core's `identifierProblem` and `arnProblem`) before it goes into an AWS call,
// and whatever AWS answers is checked against the target before anything is changed. The engine
// checks targets too; actions are a library that others call directly, so they check again.
// ---------------------------------------------------------------------------------------------

/** A value from a finding or an AWS answer, as a reason may quote it: capped, escaped, in double quotes. */
export const shown = (value: unknown): string => quoteIdentifier(value);

/**
 * Why `value` is not an identifier of that kind, or `undefined` when it is. EC2 filter values treat
 * `*` and `?` as wildcards, so an unchecked instance id `i-0*` would select every instance in the
 * region: no identifier reaches a call (or a filter) without passing this.
 */
export const invalidId = (kind: IdentifierKind, value: unknown): string | undefined =>
  identifierProblem(kind, value);

/** The EC2 id kinds `invalidEc2Id` knows, by the name its callers use. */
const EC2_ID_KINDS = {
  instance: 'instance-id',
  volume: 'volume-id',
  snapshot: 'snapshot-id',
  'security group': 'security-group-id',
  'network interface': 'network-interface-id',
  VPC: 'vpc-id',
  'instance profile association': 'instance-profile-association-id',
} as const satisfies Record<string, IdentifierKind>;

export type Ec2IdKind = keyof typeof EC2_ID_KINDS;

/** Why `value` is not an EC2 id of that kind (prefix, dash, 8 or 17 lowercase hex digits), or `undefined`. */
export const invalidEc2Id = (kind: Ec2IdKind, value: unknown): string | undefined =>
  identifierProblem(EC2_ID_KINDS[kind], value);

/** Why `name` is not a general purpose S3 bucket name, or `undefined`. Legacy names with capitals or `_` are refused. */
export const invalidBucketName = (name: unknown): string | undefined =>
  identifierProblem('s3-bucket-name', name);

/** What a trail identifier must match: the finding's partition and account, the region the calls go to. */
export interface TrailScope {
  partition: string;
  accountId: string;
  region: string;
}

/**
 * Why a trail identifier (a trail name, or an ARN `arn:<partition>:cloudtrail:<region>:<account>:trail/<name>`)
 * cannot be used, or `undefined`. An ARN must carry the finding's partition and account and the
 * region the calls go to.
 */
export const invalidTrail = (id: unknown, scope: TrailScope): string | undefined => {
  if (typeof id !== 'string' || !id.startsWith('arn:')) return identifierProblem('cloudtrail-trail-name', id);
  return arnProblem(id, { ...scope, service: 'cloudtrail', resourcePrefix: 'trail/' });
};

/**
 * The home region of a trail ARN that belongs to the finding (its partition and account), where
 * the trail is managed; `undefined` for any other value.
 */
export const trailHomeRegion = (arn: string, finding: Finding): string | undefined =>
  arnProblem(arn, {
    partition: finding.partition,
    accountId: finding.accountId,
    service: 'cloudtrail',
    resourcePrefix: 'trail/',
  }) === undefined
    ? parseArn(arn)?.region
    : undefined;

/** Why a target's account cannot be acted in for this finding (not a valid id, or not the finding's), or `undefined`. */
export const invalidAccount = (target: ActionTarget, finding: Finding): string | undefined =>
  identifierProblem('account-id', finding.accountId) ??
  (target.accountId === finding.accountId
    ? undefined
    : `target account ${quoteIdentifier(target.accountId)} is not the finding's account ${finding.accountId}`);

/** What a read answered, split into the items that belong to the target and the others. */
export interface Ownership<T> {
  owned: T[];
  foreign: T[];
}

/**
 * Splits what AWS answered into the items whose owner id (`idOf`) is exactly `targetId` and the
 * rest. Only `owned` items may be changed; `foreign` ones are reported (see `foreignNote`) and
 * left alone, whatever filter or endpoint let them through.
 */
export const ownedBy = <T>(
  items: readonly T[],
  idOf: (item: T) => string | undefined,
  targetId: string,
): Ownership<T> => ({
  owned: items.filter((item) => idOf(item) === targetId),
  foreign: items.filter((item) => idOf(item) !== targetId),
});

/** `; ignored 2 association(s) of other instances: "i-1", "i-2"` (at most 5 ids), or `''`. */
export const foreignNote = <T>(
  foreign: readonly T[],
  idOf: (item: T) => string | undefined,
  what: string,
): string => {
  if (foreign.length === 0) return '';
  const ids = foreign.slice(0, 5).map((item) => quoteIdentifier(idOf(item) ?? '(none)'));
  const more = foreign.length > 5 ? ` and ${foreign.length - 5} more` : '';
  return `; ignored ${foreign.length} ${what}: ${ids.join(', ')}${more}`;
};

/**
 * The error of a step that refuses to act while executing (planning reports `refused` instead):
 * an identifier that does not validate, or a state that is unsafe to build on.
 */
export const refusal = (reason: string): ExecutionError =>
  new ActionExecutionError('REFUSED', reason, { details: { reason } });
