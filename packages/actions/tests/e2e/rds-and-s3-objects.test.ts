import {
  createEngine,
  type EngineMode,
  executeUndo,
  type Finding,
  parsePlaybooks,
  planUndo,
  type Report,
} from '@riposte/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AccountSnapshot,
  FAKE_CREDENTIALS,
  type FakeAccountSeed,
  type FakeAws,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import { type AwsServices, createAwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { NOW } from '../helpers/context.js';
import { ACCOUNT, REGION } from '../helpers/findings.js';
import {
  CLUSTER_ID,
  DB_ID,
  maliciousObject,
  OBJECT_BUCKET,
  OBJECT_KEY,
  QUARANTINE_BUCKET,
  rdsSuccessfulLogin,
} from '../helpers/rds-s3-findings.js';

/**
 * snapshot-rds, isolate-rds-instance, tag-s3-object and quarantine-s3-object end to end: the engine runs
 * a playbook with the real RDS, EC2 and S3 clients against the local endpoint, in enforce and in
 * dry-run; then the response is undone through core's planUndo/executeUndo from what the steps
 * recorded, and the account compared before and after (the DB snapshots and the quarantine copy are
 * evidence, and are kept).
 */

const VPC = 'vpc-0a1b2c3d4e5f60718';
const APP_GROUP = 'sg-0aaaaaaaaaaaaaaa1';
const ADMIN_GROUP = 'sg-0bbbbbbbbbbbbbbb2';
const CLUSTER_GROUP = 'sg-0ccccccccccccccc3';
const VERSION = '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY';

const SEED: FakeAccountSeed = {
  accountId: ACCOUNT,
  region: REGION,
  securityGroups: [
    {
      groupId: APP_GROUP,
      groupName: 'orders-db',
      vpcId: VPC,
      ingress: [{ ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIpv4: '10.0.0.0/16' }],
    },
    {
      groupId: ADMIN_GROUP,
      groupName: 'orders-db-admin',
      vpcId: VPC,
      ingress: [{ ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIpv4: '0.0.0.0/0' }],
    },
    { groupId: CLUSTER_GROUP, groupName: 'orders-aurora', vpcId: VPC },
  ],
  rdsClusters: [{ id: CLUSTER_ID, vpcId: VPC, securityGroupIds: [CLUSTER_GROUP] }],
  rdsInstances: [
    {
      id: DB_ID,
      vpcId: VPC,
      securityGroupIds: [APP_GROUP, ADMIN_GROUP],
      publiclyAccessible: true,
      tags: { team: 'orders' },
    },
    { id: `${CLUSTER_ID}-1`, clusterId: CLUSTER_ID },
  ],
  buckets: [
    { name: OBJECT_BUCKET, versioning: 'Enabled', objectOwnership: 'BucketOwnerPreferred' },
    { name: QUARANTINE_BUCKET },
  ],
  s3Objects: [
    {
      bucket: OBJECT_BUCKET,
      key: OBJECT_KEY,
      versionId: 'older-version',
      body: 'invoice',
      tags: { source: 'portal' },
    },
    {
      bucket: OBJECT_BUCKET,
      key: OBJECT_KEY,
      versionId: VERSION,
      body: 'MZ\u0090\u0000 not really an invoice',
      tags: { source: 'portal', uploader: 'web' },
      acl: 'public-read',
    },
  ],
};

const registry = createRegistry();

const servicesFor = (aws: FakeAws): AwsServices =>
  createAwsServices({
    clientConfig: { endpoint: aws.url, maxAttempts: 1 },
    credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
    env: {},
  });

let fake: FakeAws | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const account = async (seed: FakeAccountSeed = SEED): Promise<FakeAws> => {
  fake = await startFakeAws({ seed });
  return fake;
};

const RDS_PLAYBOOK = `name: rds-login
match: { types: ["CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin"] }
actions:
  - action: snapshot-rds
  - action: isolate-rds-instance
`;

const s3Playbook = (original: 'restrict' | 'delete') => `name: malicious-object
match: { types: ["Object:S3/MaliciousFile"] }
actions:
  - action: tag-s3-object
  - action: quarantine-s3-object
    params: { quarantineBucket: ${QUARANTINE_BUCKET}, prefix: malware/, original: ${original} }
`;

const respond = (
  aws: FakeAws,
  yaml: string,
  finding: Finding,
  mode: EngineMode = 'enforce',
): Promise<Report> =>
  createEngine({
    playbooks: parsePlaybooks(yaml, 'e2e.yaml', { registry }),
    registry,
    mode,
    clock: () => NOW,
    services: servicesFor(aws),
    // The helpers' findings are lifted from GuardDuty's sample findings; these stand for real ones.
  }).handle({ ...finding, sample: false });

const undo = async (aws: FakeAws, report: Report) => {
  const options = {
    registry,
    servicesFor: () => servicesFor(aws),
    mode: 'enforce' as const,
    clock: () => new Date(NOW.getTime() + 3_600_000),
  };
  const subject = {
    findingId: report.findingId,
    findingType: report.findingType,
    severity: report.severity,
    severityLabel: report.severityLabel,
    accountId: report.accountId,
    region: report.region,
  };
  const plan = await planUndo(subject, report.steps, options);
  const done = await executeUndo(plan, report.steps, options);
  const again = await planUndo(subject, report.steps, options);
  return { plan, done, again };
};

const statuses = (report: Report) => report.steps.map((step) => [step.action, step.status]);
const mutations = (aws: FakeAws) => aws.mutatingCalls().map((call) => `${call.service} ${call.operation}`);

/** The account without what a response keeps on purpose, for comparing before and after an undo. */
const withoutEvidence = (snapshot: AccountSnapshot, keptGroups: string[] = []): AccountSnapshot => ({
  ...snapshot,
  rds: { ...snapshot.rds, snapshots: {}, clusterSnapshots: {} },
  s3Objects: Object.fromEntries(
    Object.entries(snapshot.s3Objects).filter(([key]) => !key.startsWith(`${QUARANTINE_BUCKET}/`)),
  ),
  securityGroups: Object.fromEntries(
    Object.entries(snapshot.securityGroups).filter(([id]) => !keptGroups.includes(id)),
  ),
});

describe('snapshot-rds and isolate-rds-instance against the local endpoint', () => {
  it('snapshots and isolates the DB instance, and the undo puts its groups and public access back', async () => {
    const aws = await account();
    const before = aws.snapshot();

    const report = await respond(aws, RDS_PLAYBOOK, rdsSuccessfulLogin());

    expect(statuses(report)).toEqual([
      ['snapshot-rds', 'applied'],
      ['isolate-rds-instance', 'applied'],
    ]);
    expect(mutations(aws)).toEqual([
      'RDS CreateDBSnapshot',
      'EC2 CreateSecurityGroup',
      'EC2 RevokeSecurityGroupEgress',
      'RDS ModifyDBInstance',
    ]);
    const after = aws.snapshot();
    const [quarantineGroup] = Object.entries(after.securityGroups).filter(
      ([, group]) => group.groupName === `riposte-quarantine-${VPC}`,
    );
    expect(quarantineGroup?.[1]).toMatchObject({ vpcId: VPC, ingress: [], egress: [] });
    const quarantineId = quarantineGroup?.[0] ?? '';
    expect(after.rds.instances[DB_ID]).toEqual({
      status: 'available',
      groupIds: [quarantineId],
      publiclyAccessible: false,
      clusterId: null,
      tags: { team: 'orders' },
    });
    expect(after.rds.snapshots).toEqual({
      'riposte-5abcdefa-20220128213000': {
        dbInstanceIdentifier: DB_ID,
        type: 'manual',
        tags: {
          'riposte:finding-id': report.findingId,
          'riposte:finding-type': 'CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin',
        },
      },
    });

    const { plan, done, again } = await undo(aws, report);

    expect(plan.steps.map((step) => [step.action, step.plan.status])).toEqual([
      ['isolate-rds-instance', 'planned'],
      ['snapshot-rds', 'no-op'],
    ]);
    expect(done.steps.map((step) => step.status)).toEqual(['applied', 'no-op']);
    expect(again.steps.map((step) => step.plan.status)).toEqual(['no-op', 'no-op']);
    const restored = aws.snapshot();
    expect(restored.rds.instances[DB_ID]).toMatchObject({
      groupIds: [APP_GROUP, ADMIN_GROUP].sort(),
      publiclyAccessible: true,
    });
    // Kept on purpose: the DB snapshot (evidence) and Riposte's quarantine group of the VPC.
    expect(withoutEvidence(restored, [quarantineId])).toEqual(withoutEvidence(before));
    expect(restored.rds.snapshots).toEqual(after.rds.snapshots);
  });

  it('skips both the second time', async () => {
    const aws = await account();
    await respond(aws, RDS_PLAYBOOK, rdsSuccessfulLogin());
    const calls = aws.mutatingCalls().length;

    const second = await respond(aws, RDS_PLAYBOOK, rdsSuccessfulLogin());

    expect(statuses(second)).toEqual([
      ['snapshot-rds', 'no-op'],
      ['isolate-rds-instance', 'no-op'],
    ]);
    expect(aws.mutatingCalls()).toHaveLength(calls);
  });

  it('snapshots the cluster of an Aurora member and refuses to isolate the member', async () => {
    const aws = await account({
      ...SEED,
      rdsInstances: [{ id: DB_ID, clusterId: CLUSTER_ID }],
    });

    const report = await respond(
      aws,
      RDS_PLAYBOOK,
      rdsSuccessfulLogin({ cluster: true, engine: 'aurora-postgresql' }),
    );

    expect(statuses(report)).toEqual([
      ['snapshot-rds', 'applied'],
      ['isolate-rds-instance', 'refused'],
    ]);
    expect(report.steps[1]?.reason).toContain(`member of cluster "${CLUSTER_ID}"`);
    expect(mutations(aws)).toEqual(['RDS CreateDBClusterSnapshot']);
    expect(Object.keys(aws.snapshot().rds.clusterSnapshots)).toEqual(['riposte-5abcdefa-20220128213000']);
  });

  it('makes no mutating call in dry-run', async () => {
    const aws = await account();
    const before = aws.snapshot();

    const report = await respond(aws, RDS_PLAYBOOK, rdsSuccessfulLogin(), 'dry-run');

    expect(statuses(report)).toEqual([
      ['snapshot-rds', 'dry-run'],
      ['isolate-rds-instance', 'dry-run'],
    ]);
    expect(report.steps[1]?.calls.map((call) => call.operation)).toEqual([
      'CreateSecurityGroup',
      'RevokeSecurityGroupEgress',
      'ModifyDBInstance',
    ]);
    expect(aws.mutatingCalls()).toEqual([]);
    expect(aws.calls.map((call) => call.operation)).toContain('DescribeDBInstances');
    expect(aws.snapshot()).toEqual(before);
  });
});

describe('tag-s3-object and quarantine-s3-object against the local endpoint', () => {
  const objectKey = `${OBJECT_BUCKET}/${OBJECT_KEY}`;
  const copyKey = `${QUARANTINE_BUCKET}/malware/${OBJECT_BUCKET}/${OBJECT_KEY}`;

  it('tags, copies and restricts the object, and the undo puts its ACL and tags back', async () => {
    const aws = await account();
    const before = aws.snapshot();

    const report = await respond(aws, s3Playbook('restrict'), maliciousObject({ versionId: VERSION }));

    expect(statuses(report)).toEqual([
      ['tag-s3-object', 'applied'],
      ['quarantine-s3-object', 'applied'],
    ]);
    expect(mutations(aws)).toEqual([
      'S3 PutObjectTagging',
      'S3 CopyObject',
      'S3 PutObjectAcl',
      'S3 PutObjectTagging',
    ]);
    expect(aws.mutatingCalls().every((call) => call.params.ExpectedBucketOwner === ACCOUNT)).toBe(true);
    const after = aws.snapshot();
    expect(after.s3Objects[objectKey]).toMatchObject({
      exists: true,
      tags: {
        source: 'portal',
        uploader: 'web',
        'riposte:finding-id': report.findingId,
        'riposte:finding-type': 'Object:S3/MaliciousFile',
        'riposte:tagged-at': NOW.toISOString(),
        'riposte:quarantined': 'true',
      },
      grants: [expect.stringMatching(/^CanonicalUser:[0-9a-f]{64}:FULL_CONTROL$/)],
    });
    expect(after.s3Objects[copyKey]).toMatchObject({
      exists: true,
      eTag: before.s3Objects[objectKey]?.eTag,
      tags: {
        'riposte:finding-id': report.findingId,
        'riposte:finding-type': 'Object:S3/MaliciousFile',
        'riposte:tagged-at': NOW.toISOString(),
      },
    });

    const { plan, done, again } = await undo(aws, report);

    expect(plan.steps.map((step) => [step.action, step.plan.status])).toEqual([
      ['quarantine-s3-object', 'planned'],
      ['tag-s3-object', 'planned'],
    ]);
    expect(done.steps.map((step) => step.status)).toEqual(['applied', 'applied']);
    expect(again.steps.map((step) => step.plan.status)).toEqual(['no-op', 'no-op']);
    const restored = aws.snapshot();
    expect(restored.s3Objects[objectKey]).toEqual(before.s3Objects[objectKey]);
    expect(restored.s3Objects[copyKey]).toEqual(after.s3Objects[copyKey]);
    expect(withoutEvidence(restored)).toEqual(withoutEvidence(before));
  });

  it('deletes the original after a verified copy, and the undo copies it back with its tags', async () => {
    const aws = await account({
      ...SEED,
      s3Objects: [{ bucket: OBJECT_BUCKET, key: OBJECT_KEY, body: 'MZ payload', tags: { source: 'portal' } }],
    });
    const before = aws.snapshot();

    const report = await respond(aws, s3Playbook('delete'), maliciousObject());

    expect(statuses(report)).toEqual([
      ['tag-s3-object', 'applied'],
      ['quarantine-s3-object', 'applied'],
    ]);
    expect(mutations(aws)).toEqual(['S3 PutObjectTagging', 'S3 CopyObject', 'S3 DeleteObject']);
    expect(aws.snapshot().s3Objects[objectKey]).toEqual({ exists: false });

    const again = await respond(aws, s3Playbook('delete'), maliciousObject());
    expect(statuses(again)).toEqual([
      ['tag-s3-object', 'no-op'],
      ['quarantine-s3-object', 'no-op'],
    ]);

    const { done, again: afterUndo } = await undo(aws, report);

    // tag-s3-object's inverse was planned while the object was gone (nothing to restore); it checks
    // again in its turn, once the object is copied back with the tags it had when it was quarantined.
    expect(done.steps.map((step) => [step.action, step.status])).toEqual([
      ['quarantine-s3-object', 'applied'],
      ['tag-s3-object', 'applied'],
    ]);
    expect(aws.snapshot().s3Objects[objectKey]).toMatchObject({
      exists: true,
      eTag: before.s3Objects[objectKey]?.eTag,
      tags: { source: 'portal' },
    });
    expect(afterUndo.steps.map((step) => step.plan.status)).toEqual(['no-op', 'no-op']);
    expect(withoutEvidence(aws.snapshot())).toEqual(withoutEvidence(before));
  });

  it('makes no mutating call in dry-run', async () => {
    const aws = await account();
    const before = aws.snapshot();

    const report = await respond(
      aws,
      s3Playbook('restrict'),
      maliciousObject({ versionId: VERSION }),
      'dry-run',
    );

    expect(statuses(report)).toEqual([
      ['tag-s3-object', 'dry-run'],
      ['quarantine-s3-object', 'dry-run'],
    ]);
    expect(report.steps[1]?.calls.map((call) => call.operation)).toEqual([
      'CopyObject',
      'PutObjectAcl',
      'PutObjectTagging',
    ]);
    expect(aws.mutatingCalls()).toEqual([]);
    expect(aws.snapshot()).toEqual(before);
  });
});
