import {
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { Finding } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { blockS3PublicAccess } from '../../src/actions/block-s3-public-access.js';
import { contextFor, credentialsError, sentCommands } from '../helpers/context.js';
import {
  ACCOUNT,
  BUCKET,
  bucketBlockPublicAccessDisabled,
  commandAndControl,
  s3Exfiltration,
} from '../helpers/findings.js';

const s3 = mockClient(S3Client);

const allOn = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

const noBlock = () =>
  new S3ServiceException({
    name: 'NoSuchPublicAccessBlockConfiguration',
    $fault: 'client',
    $metadata: { httpStatusCode: 404, requestId: 'no-block-1' },
    message: 'The public access block configuration was not found',
  });

/** The sample as an attacker would forge it: the bucket name replaced with `name`. */
const forged = (name: string): Finding => {
  const finding = s3Exfiltration();
  return {
    ...finding,
    resources: finding.resources.map((resource) =>
      resource.kind === 's3-bucket' ? { ...resource, name, arn: `arn:aws:s3:::${name}` } : resource,
    ),
  };
};

beforeEach(() => s3.reset());
afterAll(() => s3.restore());

describe('block-s3-public-access targets', () => {
  it('targets the bucket the finding names', () => {
    expect(blockS3PublicAccess.targets(bucketBlockPublicAccessDisabled(), {}).targets).toEqual([
      expect.objectContaining({
        kind: 's3-bucket',
        id: BUCKET,
        arn: `arn:aws:s3:::${BUCKET}`,
        accountId: ACCOUNT,
      }),
    ]);
  });

  it('has no target on an EC2 finding', () => {
    expect(blockS3PublicAccess.targets(commandAndControl(), {})).toEqual({
      targets: [],
      reason: 'the finding names no S3 bucket',
    });
  });
});

describe('block-s3-public-access plan', () => {
  it('plans all four settings on, for this bucket and its expected owner', async () => {
    s3.on(GetPublicAccessBlockCommand, { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT }).resolves({
      PublicAccessBlockConfiguration: { ...allOn, BlockPublicPolicy: false, RestrictPublicBuckets: false },
    });

    const plan = await blockS3PublicAccess.plan(
      contextFor(blockS3PublicAccess, bucketBlockPublicAccessDisabled()),
    );

    expect(plan.status).toBe('planned');
    expect(plan.lookups[0]?.summary).toBe('off: BlockPublicPolicy, RestrictPublicBuckets');
    expect(plan.calls).toEqual([
      {
        service: 'S3',
        operation: 'PutPublicAccessBlock',
        input: { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT, PublicAccessBlockConfiguration: allOn },
        mutating: true,
      },
    ]);
  });

  it('treats a bucket without any block configuration as unblocked', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(noBlock());

    const plan = await blockS3PublicAccess.plan(contextFor(blockS3PublicAccess, s3Exfiltration()));

    expect(plan.status).toBe('planned');
    expect(plan.lookups[0]).toMatchObject({
      status: 'done',
      summary: `bucket ${BUCKET} has no public access block`,
      errorCode: 'NoSuchPublicAccessBlockConfiguration',
    });
  });

  it('plans a no-op when all four settings are already on', async () => {
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: allOn });

    const plan = await blockS3PublicAccess.plan(contextFor(blockS3PublicAccess, s3Exfiltration()));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `public access to ${BUCKET} is already fully blocked`,
      calls: [],
    });
  });

  it('plans the change offline when credentials are missing', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(credentialsError());

    const plan = await blockS3PublicAccess.plan(contextFor(blockS3PublicAccess, s3Exfiltration()));

    expect(plan.status).toBe('planned');
    expect(plan.lookups[0]).toMatchObject({
      status: 'unavailable',
      summary: `would look up GetPublicAccessBlock ${BUCKET}`,
    });
  });

  it('sends no mutating command while planning', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(noBlock());

    await blockS3PublicAccess.plan(contextFor(blockS3PublicAccess, s3Exfiltration()));

    expect(sentCommands(s3)).toEqual(['GetPublicAccessBlockCommand']);
  });
});

describe('block-s3-public-access execute', () => {
  it('puts the full block with the expected bucket owner', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(noBlock());
    s3.on(PutPublicAccessBlockCommand).resolves({ $metadata: { requestId: 'put-1' } });
    const ctx = contextFor(blockS3PublicAccess, s3Exfiltration());

    const outcome = await blockS3PublicAccess.execute(ctx, await blockS3PublicAccess.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(s3.commandCalls(PutPublicAccessBlockCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT, PublicAccessBlockConfiguration: allOn },
    ]);
    expect(outcome.outputs).toEqual({ bucket: BUCKET, previous: {} });
  });

  it('skips when the bucket was blocked since planning', async () => {
    s3.on(GetPublicAccessBlockCommand)
      .rejectsOnce(noBlock())
      .resolves({ PublicAccessBlockConfiguration: allOn });
    const ctx = contextFor(blockS3PublicAccess, s3Exfiltration());

    const outcome = await blockS3PublicAccess.execute(ctx, await blockS3PublicAccess.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(s3.commandCalls(PutPublicAccessBlockCommand)).toHaveLength(0);
  });

  it('fails with AccessDenied when the bucket belongs to another account', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(noBlock());
    s3.on(PutPublicAccessBlockCommand).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403, requestId: 'denied-1' },
        message: 'Access Denied',
      }),
    );
    const ctx = contextFor(blockS3PublicAccess, s3Exfiltration());

    const outcome = await blockS3PublicAccess.execute(ctx, await blockS3PublicAccess.plan(ctx));

    expect(outcome.error).toMatchObject({
      code: 'AccessDenied',
      retryable: false,
      details: { requestId: 'denied-1' },
    });
  });

  it('fails retryably on SlowDown', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(
      new S3ServiceException({
        name: 'SlowDown',
        $fault: 'server',
        $metadata: { httpStatusCode: 503, requestId: 'slow-1' },
        message: 'Please reduce your request rate.',
      }),
    );
    const ctx = contextFor(blockS3PublicAccess, s3Exfiltration());

    const outcome = await blockS3PublicAccess.execute(ctx, { status: 'planned', lookups: [], calls: [] });

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'SlowDown', retryable: true } });
  });
});

describe('block-s3-public-access against a forged finding', () => {
  it.each([
    ['*'],
    ['acme-*'],
    ['Acme_Customer_Exports'],
    ['acme..exports'],
    ['192.168.0.1'],
    [`${BUCKET}\n`],
    ['a'.repeat(64)],
    ['xn--acme'],
  ])('refuses the bucket name %j without any AWS call', async (name) => {
    const ctx = contextFor(blockS3PublicAccess, forged(name));

    const plan = await blockS3PublicAccess.plan(ctx);
    const outcome = await blockS3PublicAccess.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(plan.reason).toContain('is not a valid S3 bucket name');
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(sentCommands(s3)).toEqual([]);
  });

  it("refuses a target outside the finding's account without any AWS call", async () => {
    const finding = s3Exfiltration();
    const [target] = blockS3PublicAccess.targets(finding, {}).targets;
    const ctx = contextFor(blockS3PublicAccess, finding, {
      target: { ...target!, accountId: '444455556666' },
    });

    const plan = await blockS3PublicAccess.plan(ctx);

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain(`is not the finding's account ${ACCOUNT}`);
    expect(sentCommands(s3)).toEqual([]);
  });

  it("reads and writes only with the finding's account as the expected bucket owner", async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(noBlock());
    s3.on(PutPublicAccessBlockCommand).resolves({});
    const ctx = contextFor(blockS3PublicAccess, s3Exfiltration());

    await blockS3PublicAccess.execute(ctx, await blockS3PublicAccess.plan(ctx));

    expect(
      s3.calls().map((call) => (call.args[0].input as { ExpectedBucketOwner?: string }).ExpectedBucketOwner),
    ).toEqual([ACCOUNT, ACCOUNT, ACCOUNT]);
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(noBlock());
    const ctx = contextFor(blockS3PublicAccess, s3Exfiltration(), { mode: 'dry-run' });

    const outcome = await blockS3PublicAccess.execute(ctx, await blockS3PublicAccess.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(s3.commandCalls(PutPublicAccessBlockCommand)).toHaveLength(0);
  });
});
