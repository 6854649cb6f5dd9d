import { ecsSnapshot } from './services/ecs.js';
import { type EksSnapshot, eksSnapshot } from './services/eks.js';
import { userPoliciesSnapshot } from './services/iam-user-policies.js';
import { lambdaSnapshot } from './services/lambda.js';
import { type NetworkAclSnapshot, networkAclSnapshot } from './services/network-acls.js';
import { rdsSnapshot } from './services/rds.js';
import { s3ObjectsSnapshot } from './services/s3-objects.js';
import { securityHubCopies } from './services/securityhub.js';
import { wafIpSetSnapshot } from './services/wafv2.js';
import type { FakeAccountState, FakeSecurityGroupRule, PublicAccessBlock, RuleSeed } from './state.js';

/**
 * The account's resources as a plain, deterministic value: `fake.snapshot()` before and after a
 * response (or an undo) compare with `toEqual`. Keys are sorted; what AWS generates afresh on every
 * change (association ids, security group rule ids, timestamps) is left out, so a profile associated
 * again or a rule put back compares equal to the original. Security groups Riposte created are
 * listed like any other (an undo that deletes its quarantine group leaves none behind).
 */
export interface AccountSnapshot {
  accountId: string;
  region: string;
  /** State, tags and the instance profile associated now (by ARN; `null` without one). */
  instances: Record<
    string,
    { state: string; tags: Record<string, string>; instanceProfileArn: string | null }
  >;
  volumes: Record<string, { tags: Record<string, string> }>;
  /** The security groups of each network interface, sorted, and its tags. */
  networkInterfaces: Record<string, { instanceId: string; groupIds: string[]; tags: Record<string, string> }>;
  securityGroups: Record<
    string,
    {
      groupName: string;
      description: string;
      vpcId: string;
      ingress: RuleSeed[];
      egress: RuleSeed[];
      tags: Record<string, string>;
    }
  >;
  snapshots: Record<string, { volumeId: string; description: string; tags: Record<string, string> }>;
  /** Roles with their path, tags and inline policies (the JSON text as put). */
  roles: Record<
    string,
    { path: string; tags: Record<string, string>; inlinePolicies: Record<string, string> }
  >;
  instanceProfiles: Record<string, { roleNames: string[] }>;
  users: Record<string, { tags: Record<string, string> }>;
  accessKeys: Record<string, { userName: string; status: string }>;
  /** Each bucket's public access block and tag set (`null` when it has none). */
  buckets: Record<
    string,
    { publicAccessBlock: PublicAccessBlock | null; tags: Record<string, string> | null }
  >;
  trails: Record<string, { isLogging: boolean }>;
  /** How many messages each topic received. */
  topics: Record<string, { messages: number }>;
  webhookPosts: number;
  guardDuty: {
    detectors: string[];
    /** By detector, then finding id: whether the finding is archived. */
    findings: Record<string, Record<string, { archived: boolean }>>;
  };
  securityHub: {
    enabled: boolean;
    /** By copy `Id` (the GuardDuty finding's ARN): the workflow status and the latest note. */
    findings: Record<string, { workflowStatus: string; note: { text: string; updatedBy: string } | null }>;
  };
  /** EKS clusters: endpoint access, and access entries with their associated policies. */
  eks: EksSnapshot;
  /** Lambda functions: reserved concurrency, function URL settings, resource-policy statements by qualifier. */
  lambdaFunctions: ReturnType<typeof lambdaSnapshot>;
  /** ECS tasks by ARN: status, stop reason and tags. */
  ecsTasks: ReturnType<typeof ecsSnapshot>;
  /** RDS: each DB instance's status, VPC security groups (sorted), public flag, cluster and tags; clusters; DB and cluster snapshots with their source and tags. */
  rds: ReturnType<typeof rdsSnapshot>;
  /** S3 objects by `<bucket>/<key>`: whether a current object exists, its size, ETag, tags and grants; no version ids. */
  s3Objects: ReturnType<typeof s3ObjectsSnapshot>;
  /** Each user's inline policies (the JSON text as put) and attached managed policy ARNs (sorted). */
  userPolicies: ReturnType<typeof userPoliciesSnapshot>;
  /** Network ACLs: VPC, default flag, associated subnets, entries (egress first, by rule number), tags. */
  networkAcls: Record<string, NetworkAclSnapshot>;
  /** WAF IP sets by ARN: version, addresses (sorted) and description; never the lock token. */
  wafIpSets: ReturnType<typeof wafIpSetSnapshot>;
}

const sortedRecord = <T>(entries: Iterable<[string, T]>): Record<string, T> =>
  Object.fromEntries([...entries].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)));

const sortedTags = (tags: Record<string, string>): Record<string, string> =>
  sortedRecord(Object.entries(tags));

/** A rule without its generated id, its members in a fixed order; rules sorted by their JSON. */
const rules = (list: FakeSecurityGroupRule[]): RuleSeed[] =>
  list
    .map(({ ruleId: _ruleId, ...rule }) => sortedRecord(Object.entries(rule)) as unknown as RuleSeed)
    .sort((left, right) => JSON.stringify(left).localeCompare(JSON.stringify(right)));

const activeProfile = (state: FakeAccountState, instanceId: string): string | null =>
  [...state.associations.values()].find(
    (association) =>
      association.instanceId === instanceId &&
      (association.state === 'associated' || association.state === 'associating'),
  )?.instanceProfileArn ?? null;

const isArchived = (finding: Record<string, unknown>): boolean => {
  const service = finding.service;
  return (
    typeof service === 'object' && service !== null && (service as { archived?: unknown }).archived === true
  );
};

export const snapshotOf = (state: FakeAccountState): AccountSnapshot => ({
  accountId: state.accountId,
  region: state.region,
  instances: sortedRecord(
    [...state.instances.values()].map((instance) => [
      instance.instanceId,
      {
        state: instance.state,
        tags: sortedTags(instance.tags),
        instanceProfileArn: activeProfile(state, instance.instanceId),
      },
    ]),
  ),
  volumes: sortedRecord(
    [...state.volumes.values()].map((volume) => [volume.volumeId, { tags: sortedTags(volume.tags) }]),
  ),
  networkInterfaces: sortedRecord(
    [...state.networkInterfaces.values()].map((eni) => [
      eni.networkInterfaceId,
      { instanceId: eni.instanceId, groupIds: [...eni.groupIds].sort(), tags: sortedTags(eni.tags) },
    ]),
  ),
  securityGroups: sortedRecord(
    [...state.securityGroups.values()].map((group) => [
      group.groupId,
      {
        groupName: group.groupName,
        description: group.description,
        vpcId: group.vpcId,
        ingress: rules(group.ingress),
        egress: rules(group.egress),
        tags: sortedTags(group.tags),
      },
    ]),
  ),
  snapshots: sortedRecord(
    [...state.snapshots.values()].map((snapshot) => [
      snapshot.snapshotId,
      { volumeId: snapshot.volumeId, description: snapshot.description, tags: sortedTags(snapshot.tags) },
    ]),
  ),
  roles: sortedRecord(
    [...state.roles.values()].map((role) => [
      role.roleName,
      {
        path: role.path,
        tags: sortedTags(role.tags),
        inlinePolicies: sortedRecord(Object.entries(role.inlinePolicies)),
      },
    ]),
  ),
  instanceProfiles: sortedRecord(
    [...state.instanceProfiles.values()].map((profile) => [
      profile.instanceProfileName,
      { roleNames: [...profile.roleNames].sort() },
    ]),
  ),
  users: sortedRecord(
    [...state.users.values()].map((user) => [user.userName, { tags: sortedTags(user.tags) }]),
  ),
  accessKeys: sortedRecord(
    [...state.accessKeys.values()].map((key) => [
      key.accessKeyId,
      { userName: key.userName, status: key.status },
    ]),
  ),
  buckets: sortedRecord(
    [...state.buckets.values()].map((bucket) => [
      bucket.name,
      {
        publicAccessBlock: bucket.publicAccessBlock ? { ...bucket.publicAccessBlock } : null,
        tags: bucket.tags ? sortedTags(bucket.tags) : null,
      },
    ]),
  ),
  trails: sortedRecord(
    [...state.trails.values()].map((trail) => [trail.arn, { isLogging: trail.isLogging }]),
  ),
  topics: sortedRecord(
    [...state.topics.values()].map((topic) => [topic.arn, { messages: topic.messages.length }]),
  ),
  webhookPosts: state.webhookPosts.length,
  guardDuty: {
    detectors: [...state.detectors].sort(),
    findings: sortedRecord(
      [...state.findings.entries()].map(([detectorId, findings]) => [
        detectorId,
        sortedRecord([...findings.entries()].map(([id, finding]) => [id, { archived: isArchived(finding) }])),
      ]),
    ),
  },
  securityHub: {
    enabled: state.securityHub.enabled,
    findings: sortedRecord(
      securityHubCopies(state).map((copy) => [
        copy.id,
        {
          workflowStatus: copy.workflow.status,
          note: copy.workflow.note
            ? { text: copy.workflow.note.text, updatedBy: copy.workflow.note.updatedBy }
            : null,
        },
      ]),
    ),
  },
  eks: eksSnapshot(state.eksClusters),
  lambdaFunctions: lambdaSnapshot(state.lambdaFunctions),
  ecsTasks: ecsSnapshot(state.ecsTasks),
  rds: rdsSnapshot(state.rds),
  s3Objects: s3ObjectsSnapshot(state.s3Objects),
  userPolicies: userPoliciesSnapshot(state.users),
  networkAcls: networkAclSnapshot(state.networkAcls),
  wafIpSets: wafIpSetSnapshot(state.wafIpSets),
});
