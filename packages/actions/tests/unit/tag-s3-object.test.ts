import {
  DeleteObjectTaggingCommand,
  GetObjectTaggingCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { hasInverse } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { tagS3Object } from '../../src/actions/tag-s3-object.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, NOW } from '../helpers/context.js';
import { maliciousObject, OBJECT_BUCKET, OBJECT_KEY } from '../helpers/rds-s3-findings.js';

const s3 = mockClient(S3Client);
const VERSION = 'L4kqtJlcpXroDTDmpUMLUo';
const finding = () => maliciousObject({ versionId: VERSION });
const marks = [
  { Key: 'riposte:finding-id', Value: finding().id },
  { Key: 'riposte:finding-type', Value: 'Object:S3/MaliciousFile' },
  { Key: 'riposte:tagged-at', Value: NOW.toISOString() },
];
const address = {
  Bucket: OBJECT_BUCKET,
  Key: OBJECT_KEY,
  VersionId: VERSION,
  ExpectedBucketOwner: finding().accountId,
};

beforeEach(() => {
  s3.reset();
  s3.on(GetObjectTaggingCommand).resolves({ TagSet: [{ Key: 'team', Value: 'billing' }] });
  s3.on(PutObjectTaggingCommand).resolves({});
  s3.on(DeleteObjectTaggingCommand).resolves({});
});
afterAll(() => s3.restore());

describe('tag-s3-object', () => {
  it('plans PutObjectTagging of the merged tag set on the version the finding names', async () => {
    const plan = await tagS3Object.plan(contextFor(tagS3Object, finding()));

    expect(plan.calls).toEqual([
      {
        service: 'S3',
        operation: 'PutObjectTagging',
        input: { ...address, Tagging: { TagSet: [{ Key: 'team', Value: 'billing' }, ...marks] } },
        mutating: true,
      },
    ]);
  });

  it('plans a no-op when the object already carries this finding id', async () => {
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: marks });

    expect((await tagS3Object.plan(contextFor(tagS3Object, finding()))).status).toBe('no-op');
  });

  it('refuses when the merged set would exceed 10 tags', async () => {
    s3.on(GetObjectTaggingCommand).resolves({
      TagSet: Array.from({ length: 8 }, (_, index) => ({ Key: `k${index}`, Value: 'v' })),
    });

    const plan = await tagS3Object.plan(contextFor(tagS3Object, finding()));

    expect(plan).toMatchObject({ status: 'refused', reason: expect.stringContaining('at most 10') });
  });

  it('applies and records the previous tags; maps an SDK error', async () => {
    const ctx = contextFor(tagS3Object, finding());
    const outcome = await tagS3Object.execute(ctx, await tagS3Object.plan(ctx));
    s3.on(PutObjectTaggingCommand).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'denied',
      }),
    );
    const failed = await tagS3Object.execute(ctx, await tagS3Object.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'applied',
      undo: {
        bucket: OBJECT_BUCKET,
        key: OBJECT_KEY,
        versionId: VERSION,
        previous: [{ key: 'team', value: 'billing' }],
      },
    });
    expect(failed).toMatchObject({
      status: 'failed',
      error: { code: expect.any(String), details: expect.objectContaining({}) },
    });
  });

  it('makes no mutating call in dry-run', async () => {
    const ctx = contextFor(tagS3Object, finding(), { mode: 'dry-run' });
    await tagS3Object.execute(ctx, await tagS3Object.plan(ctx));

    expect(s3.commandCalls(PutObjectTaggingCommand)).toHaveLength(0);
  });
});

describe('tag-s3-object undo', () => {
  const inverse = tagS3Object.undo;
  if (!hasInverse(inverse)) throw new Error('tag-s3-object has an inverse');
  const target = tagS3Object.targets(finding(), {}).targets[0]!;
  const state = {
    bucket: OBJECT_BUCKET,
    key: OBJECT_KEY,
    versionId: VERSION,
    previous: [],
    written: marks.map((tag) => ({ key: tag.Key, value: tag.Value })),
  };
  const ctx = (recorded: object = state) => ({
    findingId: finding().id,
    target,
    state: recorded as Record<string, unknown>,
    services: contextFor(tagS3Object, finding()).services,
    mode: 'enforce' as const,
    now: NOW,
  });

  it("deletes the tags when the object had none, while Riposte's are there; skips once restored", async () => {
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: marks });
    const applied = await inverse.execute(ctx(), await inverse.plan(ctx()));
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
    const skipped = await inverse.execute(ctx(), await inverse.plan(ctx()));

    expect(applied.status).toBe('applied');
    expect(s3.commandCalls(DeleteObjectTaggingCommand)[0]?.args[0].input).toEqual(address);
    expect(skipped.status).toBe('skipped');
  });

  it("refuses when Riposte's tags were changed since", async () => {
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: [{ Key: 'riposte:finding-id', Value: 'other' }] });

    expect((await inverse.plan(ctx())).status).toBe('refused');
  });

  it('refuses an invalid recorded state in validateUndoState', () => {
    const registry = createRegistry([tagS3Object]);

    expect(registry.validateUndoState('tag-s3-object', { ...state, bucket: 'A*' })).not.toEqual([]);
    expect(registry.validateUndoState('tag-s3-object', state)).toEqual([]);
  });
});
