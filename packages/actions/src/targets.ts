import {
  type ActionTarget,
  type Finding,
  type InstanceResource,
  resourcesOfKind,
  type TargetResolution,
} from '@riposte/core';

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
