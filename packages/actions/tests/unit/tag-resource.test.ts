import { CreateTagsCommand, DeleteTagsCommand, DescribeTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetRoleCommand,
  GetUserCommand,
  IAMClient,
  IAMServiceException,
  ListRoleTagsCommand,
  ListUserTagsCommand,
  TagRoleCommand,
  TagUserCommand,
  UntagRoleCommand,
  UntagUserCommand,
} from '@aws-sdk/client-iam';
import {
  DeleteBucketTaggingCommand,
  GetBucketTaggingCommand,
  PutBucketTaggingCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  type ActionTarget,
  type EngineMode,
  type Finding,
  hasInverse,
  type InverseContext,
  type UndoState,
} from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { tagResource } from '../../src/actions/tag-resource.js';
import type { AwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
import {
  ACCOUNT,
  BUCKET,
  commandAndControl,
  INSTANCE_ID,
  instanceCredentialExfiltration,
  ROLE_NAME,
  rootCredentialUsage,
  s3Exfiltration,
  torIpCallerAssumedRole,
} from '../helpers/findings.js';

const ec2 = mockClient(EC2Client);
const s3 = mockClient(S3Client);
const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);

const riposteTags = (finding: Finding, type = finding.type.name) => [
  { Key: 'riposte:finding-id', Value: finding.id },
  { Key: 'riposte:finding-type', Value: type },
  { Key: 'riposte:tagged-at', Value: NOW.toISOString() },
];

/** A tag of the finding's instance, as DescribeTags answers it. */
const instanceTag = (Key: string, Value: string) => ({
  ResourceId: INSTANCE_ID,
  ResourceType: 'instance' as const,
  Key,
  Value,
});

const targetLabelled = (finding: Finding, label: string): ActionTarget => {
  const target = tagResource.targets(finding, {}).targets.find((item) => item.label === label);
  if (!target) throw new Error(`no target ${label}`);
  return target;
};

const noTagSet = () =>
  new S3ServiceException({
    name: 'NoSuchTagSet',
    $fault: 'client',
    $metadata: { httpStatusCode: 404, requestId: 'no-tags-1' },
    message: 'The TagSet does not exist',
  });

const deniedTags = () =>
  new IAMServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403, requestId: 'denied-tags-1' },
    message: 'User is not authorized to perform: iam:ListRoleTags',
  });

beforeEach(() => {
  ec2.reset();
  s3.reset();
  iam.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({
    Account: ACCOUNT,
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/riposte-responder/riposte`,
  });
  ec2.on(DescribeTagsCommand).resolves({ Tags: [] });
  s3.on(GetBucketTaggingCommand).resolves({ TagSet: [{ Key: 'foo', Value: 'bar' }] });
  iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => ({
    Role: {
      RoleName: input.RoleName,
      Path: '/',
      Arn: `arn:aws:iam::${ACCOUNT}:role/${input.RoleName}`,
      RoleId: 'AROA6FLOREXAMPLEROLE1',
      CreateDate: new Date('2021-06-01T00:00:00Z'),
    },
  }));
  iam.on(GetUserCommand).callsFake((input: { UserName: string }) => ({
    User: {
      UserName: input.UserName,
      Path: '/',
      Arn: `arn:aws:iam::${ACCOUNT}:user/${input.UserName}`,
      UserId: 'AIDA6FLOREXAMPLEUSER4',
      CreateDate: new Date('2021-06-01T00:00:00Z'),
    },
  }));
  iam.on(ListRoleTagsCommand).resolves({ Tags: [{ Key: 'team', Value: 'payments' }] });
  iam.on(ListUserTagsCommand).resolves({ Tags: [] });
});
afterAll(() => {
  ec2.restore();
  s3.restore();
  iam.restore();
  sts.restore();
});

describe('tag-resource targets', () => {
  it("targets the instance and the assumed role behind the finding's key", () => {
    expect(
      tagResource.targets(instanceCredentialExfiltration(), {}).targets.map((target) => target.label),
    ).toEqual([`instance ${INSTANCE_ID} (credential source)`, `IAM role ${ROLE_NAME}`]);
  });

  it('targets the bucket and the IAM user of an S3 finding', () => {
    expect(tagResource.targets(s3Exfiltration(), {}).targets.map((target) => target.label)).toEqual([
      `bucket ${BUCKET}`,
      'IAM user etl-batch',
    ]);
  });

  it('has no target for root credentials', () => {
    expect(tagResource.targets(rootCredentialUsage(), {}).targets).toEqual([]);
  });
});

describe('tag-resource plan', () => {
  it('plans CreateTags on the instance with the caller tags and the riposte tags', async () => {
    const finding = commandAndControl();
    const ctx = contextFor(tagResource, finding, { params: { tags: { incident: 'IR-2022-014' } } });

    const plan = await tagResource.plan(ctx);

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      {
        service: 'EC2',
        operation: 'CreateTags',
        input: {
          Resources: [INSTANCE_ID],
          Tags: [
            { Key: 'incident', Value: 'IR-2022-014' },
            ...riposteTags(finding, 'Backdoor:EC2/C_CActivity.B'),
          ],
        },
        mutating: true,
      },
    ]);
    expect(plan.lookups[0]?.call.input).toEqual({
      Filters: [
        { Name: 'resource-id', Values: [INSTANCE_ID] },
        {
          Name: 'key',
          Values: ['incident', 'riposte:finding-id', 'riposte:finding-type', 'riposte:tagged-at'],
        },
      ],
    });
  });

  it('carries the existing bucket tags over, since PutBucketTagging replaces them all', async () => {
    const finding = s3Exfiltration();

    const plan = await tagResource.plan(contextFor(tagResource, finding));

    expect(plan.calls[0]).toMatchObject({
      operation: 'PutBucketTagging',
      input: {
        Bucket: BUCKET,
        ExpectedBucketOwner: ACCOUNT,
        Tagging: { TagSet: [{ Key: 'foo', Value: 'bar' }, ...riposteTags(finding)] },
      },
    });
  });

  it('treats NoSuchTagSet as a bucket without tags', async () => {
    s3.on(GetBucketTaggingCommand).rejects(noTagSet());
    const finding = s3Exfiltration();

    const plan = await tagResource.plan(contextFor(tagResource, finding));

    expect(plan.calls[0]?.input).toMatchObject({ Tagging: { TagSet: riposteTags(finding) } });
  });

  it('says in the planned input that offline it cannot know the bucket tags to keep', async () => {
    s3.on(GetBucketTaggingCommand).rejects(credentialsError());
    const finding = s3Exfiltration();

    const plan = await tagResource.plan(contextFor(tagResource, finding));

    expect(plan.calls[0]?.input).toMatchObject({
      Tagging: { TagSet: ['<TagSet from GetBucketTagging>', ...riposteTags(finding)] },
    });
  });

  it('tags the assumed role with TagRole', async () => {
    const finding = instanceCredentialExfiltration();
    const ctx = contextFor(tagResource, finding, {
      target: targetLabelled(finding, `IAM role ${ROLE_NAME}`),
    });

    const plan = await tagResource.plan(ctx);

    expect(plan.calls).toEqual([
      expect.objectContaining({
        operation: 'TagRole',
        input: { RoleName: ROLE_NAME, Tags: riposteTags(finding) },
      }),
    ]);
  });

  it('tags the IAM user with TagUser', async () => {
    const finding = s3Exfiltration();
    const ctx = contextFor(tagResource, finding, { target: targetLabelled(finding, 'IAM user etl-batch') });

    const plan = await tagResource.plan(ctx);

    expect(plan.calls).toEqual([
      expect.objectContaining({
        operation: 'TagUser',
        input: { UserName: 'etl-batch', Tags: riposteTags(finding) },
      }),
    ]);
  });

  it('plans a no-op when the resource already carries this finding id', async () => {
    const finding = commandAndControl();
    ec2.on(DescribeTagsCommand).resolves({ Tags: [instanceTag('riposte:finding-id', finding.id)] });

    const plan = await tagResource.plan(contextFor(tagResource, finding));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `instance ${INSTANCE_ID} is already tagged for finding ${finding.id}`,
    });
  });

  it('ignores a tag DescribeTags returns for another resource', async () => {
    const finding = commandAndControl();
    ec2.on(DescribeTagsCommand).resolves({
      Tags: [{ ...instanceTag('riposte:finding-id', finding.id), ResourceId: 'i-0fedcba9876543210' }],
    });

    const plan = await tagResource.plan(contextFor(tagResource, finding));

    expect(plan.status).toBe('planned');
  });

  it('sends no mutating command while planning', async () => {
    const finding = s3Exfiltration();
    for (const target of tagResource.targets(finding, {}).targets) {
      await tagResource.plan(contextFor(tagResource, finding, { target }));
    }

    expect(sentCommands(ec2, s3, iam)).toEqual([
      'GetBucketTaggingCommand',
      'GetUserCommand',
      'ListUserTagsCommand',
    ]);
  });
});

describe('tag-resource on protected principals', () => {
  it('refuses to tag a built-in protected role', async () => {
    const finding = torIpCallerAssumedRole('OrganizationAccountAccessRole');

    const plan = await tagResource.plan(contextFor(tagResource, finding));

    expect(plan).toMatchObject({
      status: 'refused',
      reason:
        'role OrganizationAccountAccessRole is protected (built-in: organization access role); not changed',
      calls: [],
    });
    expect(iam.calls()).toHaveLength(0);
  });

  it('refuses to tag a role carrying riposte:protected=true, and reads its tags once', async () => {
    iam.on(ListRoleTagsCommand).resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });
    const finding = instanceCredentialExfiltration();
    const ctx = contextFor(tagResource, finding, {
      target: targetLabelled(finding, `IAM role ${ROLE_NAME}`),
    });

    const plan = await tagResource.plan(ctx);

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `role ${ROLE_NAME} is protected (tag riposte:protected=true); not changed`,
    });
    expect(sentCommands(iam)).toEqual(['GetRoleCommand', 'ListRoleTagsCommand']);
  });

  it('still tags the instance as evidence when its role is protected', async () => {
    iam.on(ListRoleTagsCommand).resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });

    const plan = await tagResource.plan(contextFor(tagResource, instanceCredentialExfiltration()));

    expect(plan.status).toBe('planned');
    expect(plan.calls[0]?.operation).toBe('CreateTags');
  });

  it('refuses an instance id from the finding that is not a valid EC2 id', async () => {
    const finding = commandAndControl();
    const instance = finding.resources[0];
    if (instance?.kind === 'instance') instance.instanceId = 'i-0*';

    const plan = await tagResource.plan(contextFor(tagResource, finding));

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(sentCommands(ec2)).toEqual([]);
  });

  it('fails with PRINCIPAL_PROTECTED, not applied, when the role became protected since planning', async () => {
    iam
      .on(ListRoleTagsCommand)
      .resolvesOnce({ Tags: [] })
      .resolves({ Tags: [{ Key: 'riposte:protected', Value: 'true' }] });
    const finding = instanceCredentialExfiltration();
    const ctx = contextFor(tagResource, finding, {
      target: targetLabelled(finding, `IAM role ${ROLE_NAME}`),
    });

    const outcome = await tagResource.execute(ctx, await tagResource.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'PRINCIPAL_PROTECTED' } });
    expect(iam.commandCalls(TagRoleCommand)).toHaveLength(0);
  });

  it('fails closed when the identity Riposte runs as cannot be read', async () => {
    sts.on(GetCallerIdentityCommand).rejects(new Error('connect ETIMEDOUT'));
    const finding = s3Exfiltration();
    const ctx = contextFor(tagResource, finding, { target: targetLabelled(finding, 'IAM user etl-batch') });

    const outcome = await tagResource.execute(ctx, await tagResource.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'PROTECTION_UNVERIFIED' } });
    expect(iam.commandCalls(TagUserCommand)).toHaveLength(0);
  });

  it('fails closed when ListRoleTags is denied', async () => {
    iam.on(ListRoleTagsCommand).rejects(deniedTags());
    const finding = instanceCredentialExfiltration();
    const ctx = contextFor(tagResource, finding, {
      target: targetLabelled(finding, `IAM role ${ROLE_NAME}`),
    });

    const outcome = await tagResource.execute(ctx, { status: 'planned', lookups: [], calls: [] });

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'PROTECTION_UNVERIFIED', details: { causeCode: 'AccessDenied' } },
    });
    expect(iam.commandCalls(TagRoleCommand)).toHaveLength(0);
  });
});

describe('tag-resource execute', () => {
  it('creates the planned tags on the instance', async () => {
    ec2.on(CreateTagsCommand).resolves({});
    const ctx = contextFor(tagResource, commandAndControl());
    const plan = await tagResource.plan(ctx);

    const outcome = await tagResource.execute(ctx, plan);

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(CreateTagsCommand).map((call) => call.args[0].input)).toEqual([
      plan.calls[0]?.input,
    ]);
  });

  it('puts the merged tag set on the bucket', async () => {
    s3.on(PutBucketTaggingCommand).resolves({});
    const finding = s3Exfiltration();
    const ctx = contextFor(tagResource, finding);

    const outcome = await tagResource.execute(ctx, await tagResource.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(s3.commandCalls(PutBucketTaggingCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      ExpectedBucketOwner: ACCOUNT,
      Tagging: { TagSet: [{ Key: 'foo', Value: 'bar' }, ...riposteTags(finding)] },
    });
  });

  it('tags the IAM user', async () => {
    iam.on(TagUserCommand).resolves({});
    const finding = s3Exfiltration();
    const ctx = contextFor(tagResource, finding, { target: targetLabelled(finding, 'IAM user etl-batch') });

    const outcome = await tagResource.execute(ctx, await tagResource.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(iam.commandCalls(TagUserCommand)).toHaveLength(1);
    expect(iam.commandCalls(TagRoleCommand)).toHaveLength(0);
  });

  it('skips when the tag appeared since planning', async () => {
    const finding = commandAndControl();
    ec2
      .on(DescribeTagsCommand)
      .resolvesOnce({ Tags: [] })
      .resolves({ Tags: [instanceTag('riposte:finding-id', finding.id)] });
    const ctx = contextFor(tagResource, finding);

    const outcome = await tagResource.execute(ctx, await tagResource.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
  });

  it('fails with AccessDenied when IAM refuses TagRole', async () => {
    iam.on(TagRoleCommand).rejects(
      new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403, requestId: 'denied-1' },
        message: 'User is not authorized to perform: iam:TagRole',
      }),
    );
    const finding = instanceCredentialExfiltration();
    const ctx = contextFor(tagResource, finding, {
      target: targetLabelled(finding, `IAM role ${ROLE_NAME}`),
    });

    const outcome = await tagResource.execute(ctx, await tagResource.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'AccessDenied', retryable: false } });
  });

  it('fails retryably when S3 answers 500', async () => {
    s3.on(PutBucketTaggingCommand).rejects(
      new S3ServiceException({
        name: 'InternalError',
        $fault: 'server',
        $metadata: { httpStatusCode: 500, requestId: 'internal-1' },
        message: 'We encountered an internal error. Please try again.',
      }),
    );
    const ctx = contextFor(tagResource, s3Exfiltration());

    const outcome = await tagResource.execute(ctx, await tagResource.plan(ctx));

    expect(outcome.error).toMatchObject({
      code: 'InternalError',
      retryable: true,
      details: { httpStatusCode: 500 },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

const inverse = (() => {
  const { undo } = tagResource;
  if (!hasInverse(undo)) throw new Error('tag-resource declares no inverse');
  return undo;
})();

const C2_TYPE = 'Backdoor:EC2/C_CActivity.B';

/** What tagging the instance recorded: `incident` overwrote IR-2021-001, the riposte:* tags were new. */
const instanceRecord = (finding: Finding) => ({
  resource: { kind: 'instance', id: INSTANCE_ID },
  tags: [
    { key: 'incident', value: 'IR-2022-014', previous: 'IR-2021-001' },
    { key: 'riposte:finding-id', value: finding.id },
    { key: 'riposte:finding-type', value: C2_TYPE },
    { key: 'riposte:tagged-at', value: NOW.toISOString() },
  ],
});

/** The riposte:* tags as the step set them, as `{ Key, Value }`. */
const riposteSet = (finding: Finding, type = finding.type.name) =>
  riposteTags(finding, type).map(({ Key, Value }) => ({ Key, Value }));

/** The context `riposte undo` builds from a recorded step of this target. */
const undoContext = (
  finding: Finding,
  state: UndoState,
  options: { target?: ActionTarget; mode?: EngineMode } = {},
): InverseContext<UndoState, AwsServices> => {
  const ctx = contextFor(tagResource, finding, options.target ? { target: options.target } : {});
  return {
    findingId: finding.id,
    target: ctx.target,
    state,
    services: ctx.services,
    mode: options.mode ?? 'enforce',
    now: NOW,
  };
};

/** The instance carries what the step wrote, and this. */
const instanceTagged = (finding: Finding, ...extra: { Key: string; Value: string }[]) => {
  const written = [{ Key: 'incident', Value: 'IR-2022-014' }, ...riposteSet(finding, C2_TYPE)].filter(
    (tag) => !extra.some((other) => other.Key === tag.Key),
  );
  ec2
    .on(DescribeTagsCommand)
    .resolves({ Tags: [...written, ...extra].map((tag) => instanceTag(tag.Key, tag.Value)) });
};

describe('tag-resource records what undo needs', () => {
  it('records each key it writes on the instance, with the value it overwrote', async () => {
    const finding = commandAndControl();
    ec2.on(DescribeTagsCommand).resolves({ Tags: [instanceTag('incident', 'IR-2021-001')] });
    ec2.on(CreateTagsCommand).resolves({});
    const ctx = contextFor(tagResource, finding, { params: { tags: { incident: 'IR-2022-014' } } });

    const outcome = await tagResource.execute(ctx, await tagResource.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(outcome.undo).toEqual(instanceRecord(finding));
    expect(createRegistry().validateUndoState('tag-resource', outcome.undo)).toEqual([]);
  });

  it('records the bucket and leaves out the tags it kept', async () => {
    s3.on(GetBucketTaggingCommand).resolves({
      TagSet: [
        { Key: 'foo', Value: 'bar' },
        { Key: 'riposte:finding-id', Value: 'an-older-finding' },
      ],
    });
    s3.on(PutBucketTaggingCommand).resolves({});
    const finding = s3Exfiltration();
    const ctx = contextFor(tagResource, finding);

    const outcome = await tagResource.execute(ctx, await tagResource.plan(ctx));

    expect(outcome.undo).toEqual({
      resource: { kind: 's3-bucket', id: BUCKET },
      tags: [
        { key: 'riposte:finding-id', value: finding.id, previous: 'an-older-finding' },
        { key: 'riposte:finding-type', value: finding.type.name },
        { key: 'riposte:tagged-at', value: NOW.toISOString() },
      ],
    });
  });

  it('records an assumed role as an IAM role, by the name IAM spells', async () => {
    iam.on(TagRoleCommand).resolves({});
    const finding = instanceCredentialExfiltration();
    const ctx = contextFor(tagResource, finding, {
      target: targetLabelled(finding, `IAM role ${ROLE_NAME}`),
    });

    const outcome = await tagResource.execute(ctx, await tagResource.plan(ctx));

    expect(outcome.undo).toMatchObject({ resource: { kind: 'iam-role', id: ROLE_NAME } });
  });

  it('records nothing when the tagging fails', async () => {
    iam.on(TagUserCommand).rejects(deniedTags());
    const finding = s3Exfiltration();
    const ctx = contextFor(tagResource, finding, { target: targetLabelled(finding, 'IAM user etl-batch') });

    const outcome = await tagResource.execute(ctx, await tagResource.plan(ctx));

    expect(outcome.status).toBe('failed');
    expect(outcome.undo).toBeUndefined();
  });
});

describe('tag-resource undo plan', () => {
  it('plans the overwritten value back and the new keys removed, on the instance', async () => {
    const finding = commandAndControl();
    instanceTagged(finding);

    const plan = await inverse.plan(undoContext(finding, instanceRecord(finding)));

    expect(plan.status).toBe('planned');
    expect(plan.reason).toBeUndefined();
    expect(plan.calls.map((call) => [call.operation, call.input])).toEqual([
      ['CreateTags', { Resources: [INSTANCE_ID], Tags: [{ Key: 'incident', Value: 'IR-2021-001' }] }],
      // With each value: EC2 deletes a tag only while it still holds it.
      ['DeleteTags', { Resources: [INSTANCE_ID], Tags: riposteSet(finding, C2_TYPE) }],
    ]);
    expect(plan.lookups[0]?.call.input).toEqual({
      Filters: [
        { Name: 'resource-id', Values: [INSTANCE_ID] },
        {
          Name: 'key',
          Values: ['incident', 'riposte:finding-id', 'riposte:finding-type', 'riposte:tagged-at'],
        },
      ],
    });
  });

  it('plans the bucket tag set without the tags it added, keeping the others', async () => {
    const finding = s3Exfiltration();
    s3.on(GetBucketTaggingCommand).resolves({
      TagSet: [{ Key: 'foo', Value: 'bar' }, ...riposteSet(finding)],
    });
    const state = {
      resource: { kind: 's3-bucket', id: BUCKET },
      tags: riposteSet(finding).map(({ Key: key, Value: value }) => ({ key, value })),
    };

    const plan = await inverse.plan(undoContext(finding, state));

    expect(plan.calls).toEqual([
      expect.objectContaining({
        operation: 'PutBucketTagging',
        input: {
          Bucket: BUCKET,
          ExpectedBucketOwner: ACCOUNT,
          Tagging: { TagSet: [{ Key: 'foo', Value: 'bar' }] },
        },
      }),
    ]);
  });

  it('plans DeleteBucketTagging when no tag would remain on the bucket', async () => {
    const finding = s3Exfiltration();
    s3.on(GetBucketTaggingCommand).resolves({ TagSet: riposteSet(finding) });
    const state = {
      resource: { kind: 's3-bucket', id: BUCKET },
      tags: riposteSet(finding).map(({ Key: key, Value: value }) => ({ key, value })),
    };

    const plan = await inverse.plan(undoContext(finding, state));

    expect(plan.calls).toEqual([
      expect.objectContaining({
        operation: 'DeleteBucketTagging',
        input: { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT },
      }),
    ]);
  });

  it('plans UntagRole for the keys it added and TagRole for the value it overwrote', async () => {
    const finding = instanceCredentialExfiltration();
    iam
      .on(ListRoleTagsCommand)
      .resolves({ Tags: [{ Key: 'team', Value: 'security' }, ...riposteSet(finding)] });
    const state = {
      resource: { kind: 'iam-role', id: ROLE_NAME },
      tags: [
        { key: 'team', value: 'security', previous: 'payments' },
        ...riposteSet(finding).map(({ Key: key, Value: value }) => ({ key, value })),
      ],
    };
    const target = targetLabelled(finding, `IAM role ${ROLE_NAME}`);

    const plan = await inverse.plan(undoContext(finding, state, { target }));

    expect(plan.calls.map((call) => [call.operation, call.input])).toEqual([
      ['TagRole', { RoleName: ROLE_NAME, Tags: [{ Key: 'team', Value: 'payments' }] }],
      [
        'UntagRole',
        { RoleName: ROLE_NAME, TagKeys: ['riposte:finding-id', 'riposte:finding-type', 'riposte:tagged-at'] },
      ],
    ]);
    expect(sentCommands(iam)).toEqual(['ListRoleTagsCommand']);
  });

  it('plans a no-op when every key is back to what it was', async () => {
    const finding = commandAndControl();
    ec2.on(DescribeTagsCommand).resolves({ Tags: [instanceTag('incident', 'IR-2021-001')] });

    const plan = await inverse.plan(undoContext(finding, instanceRecord(finding)));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `instance ${INSTANCE_ID} is restored already: no tag holds what Riposte set`,
      calls: [],
    });
  });

  it('plans a no-op when the bucket is gone', async () => {
    s3.on(GetBucketTaggingCommand).rejects(
      new S3ServiceException({
        name: 'NoSuchBucket',
        $fault: 'client',
        $metadata: { httpStatusCode: 404 },
        message: 'The specified bucket does not exist',
      }),
    );
    const finding = s3Exfiltration();
    const state = {
      resource: { kind: 's3-bucket', id: BUCKET },
      tags: [{ key: 'riposte:finding-id', value: finding.id }],
    };

    const plan = await inverse.plan(undoContext(finding, state));

    expect(plan).toMatchObject({ status: 'no-op', reason: `bucket ${BUCKET} no longer exists` });
  });

  it('says in the planned input that offline it cannot know the bucket tags to keep', async () => {
    s3.on(GetBucketTaggingCommand).rejects(credentialsError());
    const finding = s3Exfiltration();
    const state = {
      resource: { kind: 's3-bucket', id: BUCKET },
      tags: [{ key: 'riposte:finding-id', value: finding.id }],
    };

    const plan = await inverse.plan(undoContext(finding, state));

    expect(plan.lookups.map((lookup) => lookup.status)).toEqual(['unavailable']);
    expect(plan.calls[0]?.input).toMatchObject({ Tagging: { TagSet: ['<TagSet from GetBucketTagging>'] } });
  });

  it('sends no mutating command while planning', async () => {
    const finding = commandAndControl();
    instanceTagged(finding);

    await inverse.plan(undoContext(finding, instanceRecord(finding)));

    expect(sentCommands(ec2, s3, iam)).toEqual(['DescribeTagsCommand']);
  });
});

describe('tag-resource undo execute', () => {
  it('puts the overwritten value back and removes the keys it added', async () => {
    const finding = commandAndControl();
    instanceTagged(finding);
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(DeleteTagsCommand).resolves({});
    const ctx = undoContext(finding, instanceRecord(finding));

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input).toEqual({
      Resources: [INSTANCE_ID],
      Tags: [{ Key: 'incident', Value: 'IR-2021-001' }],
    });
    expect(ec2.commandCalls(DeleteTagsCommand)[0]?.args[0].input).toEqual({
      Resources: [INSTANCE_ID],
      Tags: riposteSet(finding, C2_TYPE),
    });
  });

  it('removes the keys it added from the IAM user', async () => {
    const finding = s3Exfiltration();
    iam.on(ListUserTagsCommand).resolves({ Tags: riposteSet(finding) });
    iam.on(UntagUserCommand).resolves({});
    const state = {
      resource: { kind: 'iam-user', id: 'etl-batch' },
      tags: riposteSet(finding).map(({ Key: key, Value: value }) => ({ key, value })),
    };
    const ctx = undoContext(finding, state, { target: targetLabelled(finding, 'IAM user etl-batch') });

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(iam.commandCalls(UntagUserCommand)[0]?.args[0].input).toEqual({
      UserName: 'etl-batch',
      TagKeys: ['riposte:finding-id', 'riposte:finding-type', 'riposte:tagged-at'],
    });
    expect(iam.commandCalls(UntagRoleCommand)).toHaveLength(0);
  });

  it('deletes the bucket tag set when no tag remains', async () => {
    const finding = s3Exfiltration();
    s3.on(GetBucketTaggingCommand).resolves({ TagSet: riposteSet(finding) });
    s3.on(DeleteBucketTaggingCommand).resolves({});
    const state = {
      resource: { kind: 's3-bucket', id: BUCKET },
      tags: riposteSet(finding).map(({ Key: key, Value: value }) => ({ key, value })),
    };
    const ctx = undoContext(finding, state);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(s3.commandCalls(DeleteBucketTaggingCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      ExpectedBucketOwner: ACCOUNT,
    });
    expect(s3.commandCalls(PutBucketTaggingCommand)).toHaveLength(0);
  });

  it('skips when run again after it restored the tags', async () => {
    const finding = commandAndControl();
    const tagged = [{ Key: 'incident', Value: 'IR-2022-014' }, ...riposteSet(finding, C2_TYPE)];
    const restored = { Tags: [instanceTag('incident', 'IR-2021-001')] };
    ec2
      .on(DescribeTagsCommand)
      .resolvesOnce({ Tags: tagged.map((tag) => instanceTag(tag.Key, tag.Value)) })
      .resolvesOnce({ Tags: tagged.map((tag) => instanceTag(tag.Key, tag.Value)) })
      .resolves(restored);
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(DeleteTagsCommand).resolves({});
    const ctx = undoContext(finding, instanceRecord(finding));
    await inverse.execute(ctx, await inverse.plan(ctx));

    const again = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(again).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('is restored already'),
    });
    expect(sentCommands(ec2).filter((name) => !name.startsWith('Describe'))).toEqual([
      'CreateTagsCommand',
      'DeleteTagsCommand',
    ]);
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    const finding = commandAndControl();
    instanceTagged(finding);
    const ctx = undoContext(finding, instanceRecord(finding), { mode: 'dry-run' });

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(sentCommands(ec2, s3, iam).filter((name) => !name.startsWith('Describe'))).toEqual([]);
  });
});

describe('tag-resource undo when the tags changed since', () => {
  it('leaves a key someone changed since, names it, and restores the others', async () => {
    const finding = commandAndControl();
    instanceTagged(finding, { Key: 'incident', Value: 'IR-2022-099' });

    const plan = await inverse.plan(undoContext(finding, instanceRecord(finding)));

    expect(plan.status).toBe('planned');
    expect(plan.calls.map((call) => call.operation)).toEqual(['DeleteTags']);
    expect(plan.reason).toBe(
      'tag incident is "IR-2022-099" now, not "IR-2022-014" as Riposte set it: changed since, so it is left as it is',
    );
  });

  it('leaves all the riposte:* tags when another response tagged the resource since', async () => {
    const finding = commandAndControl();
    instanceTagged(
      finding,
      { Key: 'riposte:finding-id', Value: 'a-later-finding' },
      { Key: 'riposte:tagged-at', Value: '2022-02-01T00:00:00.000Z' },
    );

    const plan = await inverse.plan(undoContext(finding, instanceRecord(finding)));

    expect(plan.calls.map((call) => [call.operation, call.input.Tags])).toEqual([
      ['CreateTags', [{ Key: 'incident', Value: 'IR-2021-001' }]],
    ]);
    expect(plan.reason).toContain(
      'tag riposte:finding-type is left with the other riposte:* tags, which were changed since',
    );
  });

  it('refuses when every key it set was changed since', async () => {
    const finding = s3Exfiltration();
    s3.on(GetBucketTaggingCommand).resolves({
      TagSet: [{ Key: 'riposte:finding-id', Value: 'a-later-finding' }],
    });
    const state = {
      resource: { kind: 's3-bucket', id: BUCKET },
      tags: [{ key: 'riposte:finding-id', value: finding.id }],
    };
    const ctx = undoContext(finding, state);

    const plan = await inverse.plan(ctx);
    const outcome = await inverse.execute(ctx, plan);

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `not restored: tag riposte:finding-id is "a-later-finding" now, not "${finding.id}" as Riposte set it: changed since, so it is left as it is`,
      calls: [],
    });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(s3.commandCalls(PutBucketTaggingCommand)).toHaveLength(0);
  });
});

describe('tag-resource undo against a forged record', () => {
  const registry = createRegistry();

  it.each([
    [
      'an instance id that is not one',
      { resource: { kind: 'instance', id: 'i-0*' }, tags: [{ key: 'a', value: 'b' }] },
      '/resource/id',
      'must match pattern "^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$"',
    ],
    [
      'an aws: key',
      {
        resource: { kind: 'iam-role', id: ROLE_NAME },
        tags: [{ key: 'aws:cloudformation:stack-name', value: 'x' }],
      },
      '/tags/0/key',
      expect.stringContaining('must match pattern'),
    ],
    [
      'a previous value with a control character',
      {
        resource: { kind: 'iam-user', id: 'etl-batch' },
        tags: [{ key: 'a', value: 'b', previous: 'c\u0007' }],
      },
      '/tags/0/previous',
      expect.stringContaining('must match pattern'),
    ],
    [
      'an unknown resource kind',
      { resource: { kind: 'iam-group', id: 'admins' }, tags: [{ key: 'a', value: 'b' }] },
      '/resource/kind',
      'must be one of: instance, s3-bucket, iam-role, iam-user',
    ],
    ['no tag', { resource: { kind: 'instance', id: INSTANCE_ID }, tags: [] }, '/tags', 'must not be empty'],
  ])('refuses a recorded state with %s', (_, state, pointer, message) => {
    expect(registry.validateUndoState('tag-resource', state)).toContainEqual({ pointer, message });
  });

  it('refuses, without any call, a record of another resource than the target', async () => {
    const finding = commandAndControl();
    const state = { ...instanceRecord(finding), resource: { kind: 'instance', id: 'i-0fedcba9876543210' } };

    const plan = await inverse.plan(undoContext(finding, state));

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(plan.reason).toBe(
      `the recorded instance "i-0fedcba9876543210" is not the target instance ${INSTANCE_ID}; nothing was looked up or changed`,
    );
    expect(sentCommands(ec2, s3, iam)).toEqual([]);
  });

  it('refuses, without any call, an IAM role recorded for an instance target', async () => {
    const finding = commandAndControl();
    const state = { ...instanceRecord(finding), resource: { kind: 'iam-role', id: INSTANCE_ID } };

    const plan = await inverse.plan(undoContext(finding, state));

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(sentCommands(ec2, s3, iam)).toEqual([]);
  });

  it('grants exactly its permissions, and DeleteTags only with tag keys', () => {
    const grants = inverse.grants();

    expect(grants.find((grant) => grant.actions.includes('ec2:DeleteTags'))?.conditions).toEqual({
      Null: { 'aws:TagKeys': 'false' },
    });
    expect([...new Set(grants.flatMap((grant) => grant.actions))].sort()).toEqual(
      [...inverse.permissions].sort(),
    );
  });
});
