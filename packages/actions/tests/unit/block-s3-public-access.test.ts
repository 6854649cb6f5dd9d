import {
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
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
import {
  type BlockS3PublicAccessUndo,
  blockS3PublicAccess,
} from '../../src/actions/block-s3-public-access.js';
import { type AwsServices, createAwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
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

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

const inverse = (() => {
  const { undo } = blockS3PublicAccess;
  if (!hasInverse(undo)) throw new Error('block-s3-public-access declares no inverse');
  return undo;
})();

const bucketTarget = (): ActionTarget => blockS3PublicAccess.targets(s3Exfiltration(), {}).targets[0]!;

/** What an enforced step records for a bucket that had only BlockPublicAcls on. */
const recorded = (): BlockS3PublicAccessUndo => ({
  bucket: BUCKET,
  previous: {
    BlockPublicAcls: true,
    IgnorePublicAcls: false,
    BlockPublicPolicy: false,
    RestrictPublicBuckets: false,
  },
});

const undoContext = (
  state: unknown,
  options: { mode?: EngineMode; target?: ActionTarget } = {},
): InverseContext<UndoState, AwsServices> => ({
  findingId: s3Exfiltration().id,
  target: options.target ?? bucketTarget(),
  state: state as UndoState,
  services: createAwsServices({ env: {} }),
  mode: options.mode ?? 'enforce',
  now: NOW,
});

const undo = async (state: unknown, options: { mode?: EngineMode; target?: ActionTarget } = {}) => {
  const ctx = undoContext(state, options);
  const plan = await inverse.plan(ctx);
  return { plan, outcome: await inverse.execute(ctx, plan) };
};

/** A bucket whose public access block changes as the calls made to it say. */
const bucketHolding = (initial: typeof allOn | undefined) => {
  let config: object | undefined = initial;
  s3.on(GetPublicAccessBlockCommand).callsFake(() => {
    if (config === undefined) throw noBlock();
    return { PublicAccessBlockConfiguration: config };
  });
  s3.on(PutPublicAccessBlockCommand).callsFake((input: { PublicAccessBlockConfiguration: object }) => {
    config = input.PublicAccessBlockConfiguration;
    return {};
  });
  s3.on(DeletePublicAccessBlockCommand).callsFake(() => {
    config = undefined;
    return {};
  });
  return { now: () => config };
};

describe('block-s3-public-access undo: what the step records', () => {
  it('records the bucket and its settings before the change', async () => {
    s3.on(GetPublicAccessBlockCommand).resolves({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true },
    });
    s3.on(PutPublicAccessBlockCommand).resolves({});
    const ctx = contextFor(blockS3PublicAccess, s3Exfiltration());

    const outcome = await blockS3PublicAccess.execute(ctx, await blockS3PublicAccess.plan(ctx));

    expect(outcome.undo).toEqual(recorded());
    expect(createRegistry().validateUndoState('block-s3-public-access', outcome.undo)).toEqual([]);
  });

  it('records that the bucket had no public access block', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(noBlock());
    s3.on(PutPublicAccessBlockCommand).resolves({});
    const ctx = contextFor(blockS3PublicAccess, s3Exfiltration());

    const outcome = await blockS3PublicAccess.execute(ctx, await blockS3PublicAccess.plan(ctx));

    expect(outcome.undo).toEqual({ bucket: BUCKET, previous: 'none' });
  });

  it('records nothing when the bucket was already blocked', async () => {
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: allOn });
    const ctx = contextFor(blockS3PublicAccess, s3Exfiltration());

    const outcome = await blockS3PublicAccess.execute(ctx, await blockS3PublicAccess.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(outcome.undo).toBeUndefined();
  });
});

describe('block-s3-public-access undo: plan', () => {
  it('plans the previous settings back while all four are still on, for the expected owner', async () => {
    s3.on(GetPublicAccessBlockCommand, { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT }).resolves({
      PublicAccessBlockConfiguration: allOn,
    });

    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan).toMatchObject({ status: 'planned' });
    expect(plan.lookups.map((lookup) => lookup.summary)).toEqual(['all four settings on']);
    expect(plan.calls).toEqual([
      {
        service: 'S3',
        operation: 'PutPublicAccessBlock',
        input: {
          Bucket: BUCKET,
          ExpectedBucketOwner: ACCOUNT,
          PublicAccessBlockConfiguration: recorded().previous,
        },
        mutating: true,
      },
    ]);
  });

  it('plans to delete the configuration when the bucket had none', async () => {
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: allOn });

    const plan = await inverse.plan(undoContext({ bucket: BUCKET, previous: 'none' }));

    expect(plan.calls).toEqual([
      {
        service: 'S3',
        operation: 'DeletePublicAccessBlock',
        input: { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT },
        mutating: true,
      },
    ]);
  });

  it('plans a no-op when the settings are already as before', async () => {
    s3.on(GetPublicAccessBlockCommand).resolves({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true },
    });

    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `${BUCKET} already has its settings from before the response (on: BlockPublicAcls)`,
      calls: [],
    });
  });

  it('plans a no-op when the bucket has no configuration again, as before', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(noBlock());

    const plan = await inverse.plan(undoContext({ bucket: BUCKET, previous: 'none' }));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `${BUCKET} already has its settings from before the response (no public access block)`,
    });
  });

  it('refuses when someone changed the settings since, and leaves them', async () => {
    s3.on(GetPublicAccessBlockCommand).resolves({
      PublicAccessBlockConfiguration: { ...allOn, RestrictPublicBuckets: false },
    });

    const { plan, outcome } = await undo(recorded());

    expect(plan).toMatchObject({
      status: 'refused',
      reason: `the public access block of ${BUCKET} changed since the response: it has on: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, neither Riposte's (all four settings on) nor the previous on: BlockPublicAcls; not restored`,
      calls: [],
    });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED', retryable: false } });
    expect(sentCommands(s3)).toEqual(['GetPublicAccessBlockCommand', 'GetPublicAccessBlockCommand']);
  });

  it('refuses when the configuration Riposte set was deleted since, though the bucket had one before', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(noBlock());

    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('it has no public access block, neither');
  });

  it('plans the restore offline, listing the lookup it would make', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(credentialsError());

    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan.status).toBe('planned');
    expect(plan.lookups).toMatchObject([
      { status: 'unavailable', summary: `would look up GetPublicAccessBlock ${BUCKET}` },
    ]);
  });
});

describe('block-s3-public-access undo: execute', () => {
  it('puts the previous settings back with the expected bucket owner', async () => {
    const bucket = bucketHolding(allOn);

    const { outcome } = await undo(recorded());

    expect(outcome).toMatchObject({ status: 'applied' });
    expect(s3.commandCalls(PutPublicAccessBlockCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT, PublicAccessBlockConfiguration: recorded().previous },
    ]);
    expect(bucket.now()).toEqual(recorded().previous);
  });

  it('deletes the configuration Riposte created', async () => {
    const bucket = bucketHolding(allOn);

    const { outcome } = await undo({ bucket: BUCKET, previous: 'none' });

    expect(outcome.status).toBe('applied');
    expect(s3.commandCalls(DeletePublicAccessBlockCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT },
    ]);
    expect(bucket.now()).toBeUndefined();
  });

  it('skips when run again: the bucket is already as before', async () => {
    bucketHolding(allOn);
    await undo(recorded());

    const { plan, outcome } = await undo(recorded());

    expect(plan.status).toBe('no-op');
    expect(outcome).toMatchObject({ status: 'skipped' });
    expect(s3.commandCalls(PutPublicAccessBlockCommand)).toHaveLength(1);
  });

  it('skips when the settings were put back since planning', async () => {
    s3.on(GetPublicAccessBlockCommand)
      .resolvesOnce({ PublicAccessBlockConfiguration: allOn })
      .resolves({ PublicAccessBlockConfiguration: { BlockPublicAcls: true } });

    const { outcome } = await undo(recorded());

    expect(outcome.status).toBe('skipped');
    expect(s3.commandCalls(PutPublicAccessBlockCommand)).toHaveLength(0);
  });

  it('round-trips: block, then undo, leaves the bucket as it was', async () => {
    const bucket = bucketHolding(undefined);
    const ctx = contextFor(blockS3PublicAccess, s3Exfiltration());
    const blocked = await blockS3PublicAccess.execute(ctx, await blockS3PublicAccess.plan(ctx));
    expect(bucket.now()).toEqual(allOn);

    const { outcome } = await undo(blocked.undo);

    expect(outcome.status).toBe('applied');
    expect(bucket.now()).toBeUndefined();
  });

  it('fails with AccessDenied when S3 refuses the restore', async () => {
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: allOn });
    s3.on(PutPublicAccessBlockCommand).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403, requestId: 'denied-2' },
        message: 'Access Denied',
      }),
    );

    const { outcome } = await undo(recorded());

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'AccessDenied', retryable: false } });
  });

  it('makes no mutating call in dry-run: the plan lists it, execute refuses to send it', async () => {
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: allOn });

    const { plan, outcome } = await undo(recorded(), { mode: 'dry-run' });

    expect(plan.calls.map((call) => call.operation)).toEqual(['PutPublicAccessBlock']);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(sentCommands(s3)).toEqual(['GetPublicAccessBlockCommand', 'GetPublicAccessBlockCommand']);
  });

  it('sends only calls its permissions allow, and needs each of them', async () => {
    bucketHolding(allOn);
    await undo(recorded());
    s3.reset();
    bucketHolding(allOn);
    await undo({ bucket: BUCKET, previous: 'none' });
    // DeletePublicAccessBlock, like PutPublicAccessBlock, is authorised by s3:PutBucketPublicAccessBlock.
    const iamName: Record<string, string> = {
      GetPublicAccessBlockCommand: 's3:GetBucketPublicAccessBlock',
      PutPublicAccessBlockCommand: 's3:PutBucketPublicAccessBlock',
      DeletePublicAccessBlockCommand: 's3:PutBucketPublicAccessBlock',
    };

    const needed = new Set(sentCommands(s3).map((name) => iamName[name]));

    expect(sentCommands(s3)).toContain('DeletePublicAccessBlockCommand');
    expect([...needed].sort()).toEqual([...inverse.permissions].sort());
  });
});

describe('block-s3-public-access undo: an untrusted recorded state', () => {
  const registry = createRegistry([blockS3PublicAccess]);

  it.each([
    [{ ...recorded(), bucket: '*' }, '/bucket'],
    [{ ...recorded(), bucket: 'acme\nexports' }, '/bucket'],
    [{ ...recorded(), previous: 'some' }, '/previous'],
    [{ ...recorded(), previous: { BlockPublicAcls: 'false' } }, '/previous/BlockPublicAcls'],
    [{ bucket: BUCKET }, '/previous'],
    [{ ...recorded(), expectedOwner: '444455556666' }, '/expectedOwner'],
  ])('is refused by validateUndoState: %j', (state, pointer) => {
    const problems = registry.validateUndoState('block-s3-public-access', state);

    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((problem) => problem.pointer)).toContain(pointer);
  });

  it('is checked again by the inverse before any call', async () => {
    const { plan, outcome } = await undo({ ...recorded(), bucket: 'xn--acme' });

    expect(plan).toMatchObject({ status: 'refused', lookups: [], calls: [] });
    expect(plan.reason).toContain('is not a valid S3 bucket name');
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(sentCommands(s3)).toEqual([]);
  });

  it('refuses a recorded bucket that is not the recorded target, without any call', async () => {
    const plan = await inverse.plan(undoContext({ ...recorded(), bucket: 'acme-other-bucket' }));

    expect(plan).toMatchObject({ status: 'refused', lookups: [] });
    expect(plan.reason).toContain('is not the recorded target "acme-customer-exports"');
    expect(sentCommands(s3)).toEqual([]);
  });

  it('refuses a recorded target account that is not an account id, without any call', async () => {
    const plan = await inverse.plan(
      undoContext(recorded(), { target: { ...bucketTarget(), accountId: '*' } }),
    );

    expect(plan).toMatchObject({ status: 'refused', lookups: [] });
    expect(plan.reason).toContain('is not a valid AWS account id');
    expect(sentCommands(s3)).toEqual([]);
  });
});
