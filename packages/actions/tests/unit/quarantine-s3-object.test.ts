import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectAclCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { hasInverse } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { quarantineS3Object } from '../../src/actions/quarantine-s3-object.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, NOW } from '../helpers/context.js';
import { maliciousObject, OBJECT_BUCKET, OBJECT_KEY, QUARANTINE_BUCKET } from '../helpers/rds-s3-findings.js';

const s3 = mockClient(S3Client);
const ETAG = '"0cc175b9c0f1b6a831c399e269772661"';
const OWNER = 'a1b2c3';
const notFound = () =>
  new S3ServiceException({
    name: 'NotFound',
    $fault: 'client',
    $metadata: { httpStatusCode: 404 },
    message: 'Not Found',
  });
const openAcl = {
  Owner: { ID: OWNER },
  Grants: [
    { Grantee: { Type: 'CanonicalUser' as const, ID: OWNER }, Permission: 'FULL_CONTROL' as const },
    {
      Grantee: { Type: 'Group' as const, URI: 'http://acs.amazonaws.com/groups/global/AllUsers' },
      Permission: 'READ' as const,
    },
  ],
};
let copied = false;

beforeEach(() => {
  s3.reset();
  copied = false;
  s3.on(HeadObjectCommand).callsFake((input: { Bucket: string }) => {
    if (input.Bucket === QUARANTINE_BUCKET && !copied) throw notFound();
    return { ETag: ETAG, ContentLength: 1 };
  });
  s3.on(CopyObjectCommand).callsFake(() => {
    copied = true;
    return {};
  });
  s3.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
  s3.on(GetBucketOwnershipControlsCommand).resolves({
    OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
  });
  s3.on(GetObjectAclCommand).resolves(openAcl);
  s3.on(PutObjectAclCommand).resolves({});
  s3.on(PutObjectTaggingCommand).resolves({});
  s3.on(DeleteObjectCommand).resolves({});
});
afterAll(() => s3.restore());

const params = { quarantineBucket: QUARANTINE_BUCKET, prefix: 'malware/' };

describe('quarantine-s3-object', () => {
  it('plans the copy into quarantine, then a private ACL and the quarantined tag', async () => {
    const plan = await quarantineS3Object.plan(contextFor(quarantineS3Object, maliciousObject(), { params }));

    expect(plan.calls.map((call) => call.operation)).toEqual([
      'CopyObject',
      'PutObjectAcl',
      'PutObjectTagging',
    ]);
    expect(plan.calls[0]?.input).toMatchObject({
      Bucket: QUARANTINE_BUCKET,
      Key: `malware/${OBJECT_BUCKET}/${OBJECT_KEY}`,
      CopySource: `${OBJECT_BUCKET}/incoming/invoice-2024-03.pdf.exe`,
      ExpectedBucketOwner: maliciousObject().accountId,
      ExpectedSourceBucketOwner: maliciousObject().accountId,
      TaggingDirective: 'REPLACE',
    });
  });

  it('refuses restrict where the bucket has ACLs disabled', async () => {
    s3.on(GetBucketOwnershipControlsCommand).resolves({
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });

    const plan = await quarantineS3Object.plan(contextFor(quarantineS3Object, maliciousObject(), { params }));

    expect(plan).toMatchObject({ status: 'refused', reason: expect.stringContaining('ACLs disabled') });
  });

  it('applies: copies, verifies, restricts, records the ACL; then skips', async () => {
    const ctx = contextFor(quarantineS3Object, maliciousObject(), { params });
    const outcome = await quarantineS3Object.execute(ctx, await quarantineS3Object.plan(ctx));
    s3.on(GetObjectAclCommand).resolves({ Owner: { ID: OWNER }, Grants: [openAcl.Grants[0]!] });
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: [{ Key: 'riposte:quarantined', Value: 'true' }] });
    const again = await quarantineS3Object.execute(ctx, await quarantineS3Object.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'applied',
      undo: { original: 'restrict', previousAcl: { owner: { id: OWNER } } },
    });
    expect(outcome.calls.map((call) => call.operation)).toContain('HeadObject');
    expect(again.status).toBe('skipped');
  });

  it('deletes the original with delete, and leaves it when the copy does not match', async () => {
    const ctx = contextFor(quarantineS3Object, maliciousObject(), {
      params: { ...params, original: 'delete' as const },
    });
    const applied = await quarantineS3Object.execute(ctx, await quarantineS3Object.plan(ctx));
    copied = false;
    s3.reset();
    s3.on(HeadObjectCommand).callsFake((input: { Bucket: string }) =>
      input.Bucket === QUARANTINE_BUCKET && !copied
        ? Promise.reject(notFound())
        : { ETag: input.Bucket === QUARANTINE_BUCKET ? '"x"' : ETAG, ContentLength: 1 },
    );
    s3.on(CopyObjectCommand).callsFake(() => {
      copied = true;
      return {};
    });
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
    const mismatch = await quarantineS3Object.execute(ctx, await quarantineS3Object.plan(ctx));

    expect(applied.status).toBe('applied');
    expect(mismatch.status).toBe('failed');
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  it('maps an SDK error, and makes no mutating call in dry-run', async () => {
    s3.on(CopyObjectCommand).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'denied',
      }),
    );
    const failed = await quarantineS3Object.execute(
      contextFor(quarantineS3Object, maliciousObject(), { params }),
      await quarantineS3Object.plan(contextFor(quarantineS3Object, maliciousObject(), { params })),
    );
    s3.resetHistory();
    const dry = contextFor(quarantineS3Object, maliciousObject(), { params, mode: 'dry-run' });
    await quarantineS3Object.execute(dry, await quarantineS3Object.plan(dry));

    expect(failed).toMatchObject({
      status: 'failed',
      error: { code: expect.any(String), details: expect.objectContaining({}) },
    });
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
  });
});

describe('quarantine-s3-object undo', () => {
  const inverse = quarantineS3Object.undo;
  if (!hasInverse(inverse)) throw new Error('quarantine-s3-object has an inverse');
  const target = quarantineS3Object.targets(maliciousObject(), params).targets[0]!;
  const state = {
    bucket: OBJECT_BUCKET,
    key: OBJECT_KEY,
    quarantineBucket: QUARANTINE_BUCKET,
    quarantineKey: `malware/${OBJECT_BUCKET}/${OBJECT_KEY}`,
    original: 'delete',
    previousTags: [{ key: 'team', value: 'billing' }],
  };
  const ctx = (recorded: object = state) => ({
    findingId: maliciousObject().id,
    target,
    state: recorded as Record<string, unknown>,
    services: contextFor(quarantineS3Object, maliciousObject(), { params }).services,
    mode: 'enforce' as const,
    now: NOW,
  });

  it('copies a deleted object back from quarantine with its previous tags; skips once it exists', async () => {
    copied = true;
    s3.on(HeadObjectCommand).callsFake((input: { Bucket: string }) =>
      input.Bucket === OBJECT_BUCKET ? Promise.reject(notFound()) : { ETag: ETAG, ContentLength: 1 },
    );
    const applied = await inverse.execute(ctx(), await inverse.plan(ctx()));
    s3.on(HeadObjectCommand).resolves({ ETag: ETAG, ContentLength: 1 });
    const skipped = await inverse.execute(ctx(), await inverse.plan(ctx()));

    expect(applied.status).toBe('applied');
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: OBJECT_BUCKET,
      Key: OBJECT_KEY,
      Tagging: 'team=billing',
    });
    expect(skipped.status).toBe('skipped');
  });

  it('refuses to restore an ACL that was changed since', async () => {
    const restrict = { ...state, original: 'restrict', previousAcl: { owner: { id: OWNER }, grants: [] } };
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: [] });

    expect((await inverse.plan(ctx(restrict))).status).toBe('refused');
  });

  it('refuses an invalid recorded state in validateUndoState', () => {
    const registry = createRegistry([quarantineS3Object]);

    expect(registry.validateUndoState('quarantine-s3-object', { ...state, original: 'shred' })).not.toEqual(
      [],
    );
    expect(registry.validateUndoState('quarantine-s3-object', state)).toEqual([]);
  });
});
