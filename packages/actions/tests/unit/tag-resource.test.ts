import { CreateTagsCommand, DescribeTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetRoleCommand,
  GetUserCommand,
  IAMClient,
  IAMServiceException,
  ListRoleTagsCommand,
  ListUserTagsCommand,
  TagRoleCommand,
  TagUserCommand,
} from '@aws-sdk/client-iam';
import {
  GetBucketTaggingCommand,
  PutBucketTaggingCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { ActionTarget, Finding } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { tagResource } from '../../src/actions/tag-resource.js';
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
        { Name: 'key', Values: ['riposte:finding-id'] },
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
    ec2.on(DescribeTagsCommand).resolves({ Tags: [{ Key: 'riposte:finding-id', Value: finding.id }] });

    const plan = await tagResource.plan(contextFor(tagResource, finding));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `instance ${INSTANCE_ID} is already tagged for finding ${finding.id}`,
    });
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
      .resolves({ Tags: [{ Key: 'riposte:finding-id', Value: finding.id }] });
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
