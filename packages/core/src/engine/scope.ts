import type { ActionTarget } from '../action.js';
import type { Finding, Resource } from '../finding.js';

/** Every identifier under which a finding names a resource: a target must use one of them. */
export const resourceIdentifiers = (resource: Resource): string[] => {
  const ids: (string | undefined)[] = (() => {
    switch (resource.kind) {
      case 'instance':
        return [resource.instanceId, resource.arn];
      case 'access-key':
        return [resource.accessKeyId, resource.principalId, resource.userName, resource.roleName];
      case 's3-bucket':
        return [resource.name, resource.arn];
      case 'cloudtrail-trail':
        return [resource.name, resource.arn];
      case 'eks-cluster':
        return [resource.name, resource.arn];
      case 'ecs-cluster':
        return [resource.name, resource.arn, resource.taskArn];
      case 'container':
        return [resource.id, resource.name];
      case 'lambda-function':
        return [resource.name, resource.arn];
      case 'rds-instance':
        return [resource.dbInstanceIdentifier, resource.arn];
      case 'ebs-volume':
        return [resource.volumeId, resource.volumeArn];
    }
  })();
  return ids.filter((id): id is string => typeof id === 'string' && id.length > 0);
};

/**
 * Whether a target is one the finding names: same account and region as the finding, and an id the
 * finding gives for a resource of that kind. Anything else is out of scope and is refused.
 */
export const outOfScopeReason = (finding: Finding, target: ActionTarget): string | undefined => {
  if (target.accountId !== finding.accountId) {
    return `target account ${target.accountId} is not the finding's account ${finding.accountId}`;
  }
  if (target.region !== finding.region && target.kind !== 's3-bucket') {
    return `target region ${target.region} is not the finding's region ${finding.region}`;
  }
  if (target.kind === 'finding') {
    return target.id === finding.id ? undefined : `target ${target.id} is not this finding`;
  }
  const named = finding.resources.some(
    (resource) => resource.kind === target.kind && resourceIdentifiers(resource).includes(target.id),
  );
  return named ? undefined : `the finding names no ${target.kind} "${target.id}"`;
};
