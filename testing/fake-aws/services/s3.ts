import { AwsFault } from '../errors.js';
import type { OperationContext, S3Document } from '../protocols.js';
import type { FakeBucket, PublicAccessBlock } from '../state.js';
import { childText, malformedXml, parseXml } from '../xml.js';
import { getBucketOwnershipControls } from './s3-objects.js';

export interface S3Request {
  bucket: string;
  /** `x-amz-expected-bucket-owner`: the request fails with 403 when the bucket belongs to another account. */
  expectedBucketOwner?: string;
  body: string;
}

export interface S3Result {
  status: number;
  document?: S3Document;
}

export interface S3Operation {
  /** The decoded input, for the call record; never throws (an unreadable body is recorded raw). */
  params(request: S3Request): Record<string, unknown>;
  run(request: S3Request, context: OperationContext): S3Result;
}

const bucketOrThrow = (request: S3Request, { state }: OperationContext): FakeBucket => {
  const bucket = state.buckets.get(request.bucket);
  if (!bucket) {
    throw new AwsFault('NoSuchBucket', 'The specified bucket does not exist', 404, {
      BucketName: request.bucket,
    });
  }
  if (request.expectedBucketOwner !== undefined && request.expectedBucketOwner !== bucket.ownerAccountId) {
    throw new AwsFault('AccessDenied', 'Access Denied', 403);
  }
  return bucket;
};

// S3 reads an absent flag as false.
const readPublicAccessBlock = (body: string): PublicAccessBlock => {
  const root = parseXml(body);
  if (root.name !== 'PublicAccessBlockConfiguration') {
    throw malformedXml();
  }
  const flag = (name: keyof PublicAccessBlock): boolean => childText(root, name) === 'true';
  return {
    BlockPublicAcls: flag('BlockPublicAcls'),
    IgnorePublicAcls: flag('IgnorePublicAcls'),
    BlockPublicPolicy: flag('BlockPublicPolicy'),
    RestrictPublicBuckets: flag('RestrictPublicBuckets'),
  };
};

const readTagging = (body: string): Array<{ Key: string; Value: string }> => {
  const root = parseXml(body);
  const tagSet = root.name === 'Tagging' ? root.children.find((child) => child.name === 'TagSet') : undefined;
  if (!tagSet) {
    throw malformedXml();
  }
  return tagSet.children
    .filter((child) => child.name === 'Tag')
    .map((tag) => ({ Key: childText(tag, 'Key') ?? '', Value: childText(tag, 'Value') ?? '' }));
};

const baseParams = (request: S3Request): Record<string, unknown> => ({
  Bucket: request.bucket,
  ...(request.expectedBucketOwner === undefined ? {} : { ExpectedBucketOwner: request.expectedBucketOwner }),
});

const withBody = (
  request: S3Request,
  member: string,
  read: (body: string) => unknown,
): Record<string, unknown> => {
  try {
    return { ...baseParams(request), [member]: read(request.body) };
  } catch {
    return { ...baseParams(request), Body: request.body };
  }
};

const getPublicAccessBlock: S3Operation = {
  params: baseParams,
  run(request, context) {
    const bucket = bucketOrThrow(request, context);
    if (!bucket.publicAccessBlock) {
      throw new AwsFault(
        'NoSuchPublicAccessBlockConfiguration',
        'The public access block configuration was not found',
        404,
        { BucketName: bucket.name },
      );
    }
    return {
      status: 200,
      document: {
        root: 'PublicAccessBlockConfiguration',
        content: { ...bucket.publicAccessBlock },
        itemName: 'item',
      },
    };
  },
};

const putPublicAccessBlock: S3Operation = {
  params: (request) => withBody(request, 'PublicAccessBlockConfiguration', readPublicAccessBlock),
  run(request, context) {
    const bucket = bucketOrThrow(request, context);
    bucket.publicAccessBlock = readPublicAccessBlock(request.body);
    return { status: 200 };
  },
};

const getBucketTagging: S3Operation = {
  params: baseParams,
  run(request, context) {
    const bucket = bucketOrThrow(request, context);
    if (!bucket.tags) {
      throw new AwsFault('NoSuchTagSet', 'The TagSet does not exist', 404, { BucketName: bucket.name });
    }
    return {
      status: 200,
      document: {
        root: 'Tagging',
        content: { TagSet: Object.entries(bucket.tags).map(([Key, Value]) => ({ Key, Value })) },
        itemName: 'Tag',
      },
    };
  },
};

/** Replaces the bucket's whole tag set, as PutBucketTagging does. */
const putBucketTagging: S3Operation = {
  params: (request) => withBody(request, 'Tagging', (body) => ({ TagSet: readTagging(body) })),
  run(request, context) {
    const bucket = bucketOrThrow(request, context);
    const tags = readTagging(request.body);
    if (new Set(tags.map((tag) => tag.Key)).size !== tags.length) {
      throw new AwsFault('InvalidTag', 'Cannot provide multiple Tags with the same key');
    }
    bucket.tags = Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value]));
    return { status: 204 };
  },
};

/** Removes the bucket's public access block; S3 answers 204 whether or not it had one. */
const deletePublicAccessBlock: S3Operation = {
  params: baseParams,
  run(request, context) {
    const bucket = bucketOrThrow(request, context);
    delete bucket.publicAccessBlock;
    return { status: 204 };
  },
};

/** Removes the bucket's whole tag set; GetBucketTagging answers NoSuchTagSet afterwards. */
const deleteBucketTagging: S3Operation = {
  params: baseParams,
  run(request, context) {
    const bucket = bucketOrThrow(request, context);
    delete bucket.tags;
    return { status: 204 };
  },
};

/** Keyed by `<METHOD> ?<subresource>`: path-style bucket operations only. */
export const s3Operations: Record<string, [name: string, operation: S3Operation]> = {
  'GET ?publicAccessBlock': ['GetPublicAccessBlock', getPublicAccessBlock],
  'PUT ?publicAccessBlock': ['PutPublicAccessBlock', putPublicAccessBlock],
  'DELETE ?publicAccessBlock': ['DeletePublicAccessBlock', deletePublicAccessBlock],
  'GET ?tagging': ['GetBucketTagging', getBucketTagging],
  'PUT ?tagging': ['PutBucketTagging', putBucketTagging],
  'DELETE ?tagging': ['DeleteBucketTagging', deleteBucketTagging],
  'GET ?ownershipControls': ['GetBucketOwnershipControls', getBucketOwnershipControls],
};
