import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AwsFault, FakeAwsError } from '../errors.js';
import { type HttpReply, type OperationContext, type S3Document, s3Success } from '../protocols.js';
import type { FakeAccountState, FakeBucket } from '../state.js';
import { childText, escapeXml, malformedXml, parseXml, XML_DECLARATION, type XmlElement } from '../xml.js';
import type { S3Operation } from './s3.js';

/*
 * S3 objects (REST-XML, path-style `/<bucket>/<key>`), with the names @aws-sdk/client-s3's schemas
 * give them: GetObjectTagging/PutObjectTagging/DeleteObjectTagging (`?tagging`, `<Tagging><TagSet>
 * <Tag>`, `x-amz-version-id`), GetObjectAcl/PutObjectAcl (`?acl`, `<AccessControlPolicy><Owner>
 * <AccessControlList><Grant><Grantee xsi:type="…">`, canned `x-amz-acl`), HeadObject (headers only),
 * CopyObject (PUT with `x-amz-copy-source`, `<CopyObjectResult>`), DeleteObject (a delete marker in a
 * versioned bucket, a version when one is named) and the bucket's GetBucketOwnershipControls
 * (`<OwnershipControls><Rule>` flattened).
 */

// ---------------------------------------------------------------------------------------------
// Seed and state
// ---------------------------------------------------------------------------------------------

export type CannedAcl =
  | 'private'
  | 'public-read'
  | 'public-read-write'
  | 'authenticated-read'
  | 'bucket-owner-read'
  | 'bucket-owner-full-control';

export interface FakeGrant {
  type: 'CanonicalUser' | 'Group' | 'AmazonCustomerByEmail';
  id?: string;
  uri?: string;
  emailAddress?: string;
  permission: 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';
}

export interface S3ObjectSeed {
  /** A seeded bucket. */
  bucket: string;
  key: string;
  /** A version of a versioned bucket; generated when omitted (`null` in a bucket never versioned). */
  versionId?: string;
  /** The content (default: `size` bytes of `x`). */
  body?: string;
  /** Defaults to the length of `body` (or 1024). */
  size?: number;
  /** Quoted, as S3 sends it; defaults to the MD5 of the content. A `-N` suffix marks a multipart upload. */
  eTag?: string;
  contentType?: string;
  /** `AES256` (default) or `aws:kms`: a KMS-encrypted object's ETag is no digest of its content. */
  serverSideEncryption?: 'AES256' | 'aws:kms';
  tags?: Record<string, string>;
  /** A canned ACL (default `private`) or the grants. */
  acl?: CannedAcl | FakeGrant[];
  /** A delete marker instead of an object version. */
  deleteMarker?: boolean;
}

export interface FakeObjectVersion {
  versionId: string;
  deleteMarker: boolean;
  body: string;
  size: number;
  eTag: string;
  contentType: string;
  serverSideEncryption: string;
  lastModified: string;
  tags: Record<string, string>;
  /** Canonical user id of the object's owner. */
  ownerId: string;
  grants: FakeGrant[];
}

/** By bucket, then key: the versions of the key, oldest first (the last one is current). */
export type FakeS3Objects = Map<string, Map<string, FakeObjectVersion[]>>;

const SEEDED_AT = '2024-03-01T12:00:00.000Z';
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

/** An account's S3 canonical user id (64 hex digits), derived from the account id so it is stable. */
export const canonicalIdOf = (accountId: string): string =>
  createHash('sha256').update(`s3-canonical-user:${accountId}`).digest('hex');

const md5ETag = (body: string): string => `"${createHash('md5').update(body).digest('hex')}"`;

const newVersionId = (): string => randomBytes(24).toString('base64url').slice(0, 32);

const versioned = (bucket: FakeBucket): boolean => bucket.versioning !== undefined;

const cannedGrants = (acl: string, ownerId: string, bucketOwnerId: string): FakeGrant[] => {
  const owner: FakeGrant = { type: 'CanonicalUser', id: ownerId, permission: 'FULL_CONTROL' };
  const other = bucketOwnerId === ownerId ? [] : undefined;
  switch (acl) {
    case 'private':
      return [owner];
    case 'public-read':
      return [owner, { type: 'Group', uri: ALL_USERS, permission: 'READ' }];
    case 'public-read-write':
      return [
        owner,
        { type: 'Group', uri: ALL_USERS, permission: 'READ' },
        { type: 'Group', uri: ALL_USERS, permission: 'WRITE' },
      ];
    case 'authenticated-read':
      return [owner, { type: 'Group', uri: AUTHENTICATED_USERS, permission: 'READ' }];
    case 'bucket-owner-read':
      return [
        owner,
        ...(other ?? [{ type: 'CanonicalUser' as const, id: bucketOwnerId, permission: 'READ' as const }]),
      ];
    case 'bucket-owner-full-control':
      return [
        owner,
        ...(other ?? [
          { type: 'CanonicalUser' as const, id: bucketOwnerId, permission: 'FULL_CONTROL' as const },
        ]),
      ];
    default:
      throw new AwsFault('InvalidArgument', `Invalid canned ACL: ${acl}`, 400, { ArgumentName: 'x-amz-acl' });
  }
};

/** The objects of the seed, each in a seeded bucket, in the order given (later versions of a key last). */
export const s3ObjectsOf = (seeds: S3ObjectSeed[], buckets: Map<string, FakeBucket>): FakeS3Objects => {
  const objects: FakeS3Objects = new Map();
  for (const seed of seeds) {
    const bucket = buckets.get(seed.bucket);
    if (!bucket) {
      throw new FakeAwsError(
        'SEED_INVALID',
        `object ${seed.key} is in bucket ${seed.bucket}, which is not seeded`,
        {
          bucket: seed.bucket,
          key: seed.key,
        },
      );
    }
    const ownerId = canonicalIdOf(bucket.ownerAccountId);
    const size = seed.size ?? seed.body?.length ?? 1024;
    const body = seed.body ?? 'x'.repeat(Math.min(size, 1024 * 1024));
    const version: FakeObjectVersion = {
      versionId: seed.versionId ?? (versioned(bucket) ? newVersionId() : 'null'),
      deleteMarker: seed.deleteMarker === true,
      body,
      size,
      eTag: seed.eTag ?? md5ETag(body),
      contentType: seed.contentType ?? 'application/octet-stream',
      serverSideEncryption: seed.serverSideEncryption ?? 'AES256',
      lastModified: SEEDED_AT,
      tags: { ...seed.tags },
      ownerId,
      grants:
        typeof seed.acl === 'object'
          ? seed.acl.map((grant) => ({ ...grant }))
          : cannedGrants(seed.acl ?? 'private', ownerId, ownerId),
    };
    const keys = objects.get(seed.bucket) ?? new Map<string, FakeObjectVersion[]>();
    keys.set(seed.key, [...(keys.get(seed.key) ?? []), version]);
    objects.set(seed.bucket, keys);
  }
  return objects;
};

const grantText = (grant: FakeGrant): string =>
  `${grant.type}:${grant.id ?? grant.uri ?? grant.emailAddress ?? ''}:${grant.permission}`;

/**
 * The snapshot's view, by `<bucket>/<key>`: whether the key has a current object (not a delete
 * marker), and that object's size, ETag, tags and grants (`<type>:<grantee>:<permission>`, sorted).
 * Version ids are left out: a deleted object copied back compares equal to the original.
 */
export const s3ObjectsSnapshot = (objects: FakeS3Objects) => {
  const entries: Array<[string, unknown]> = [];
  for (const [bucket, keys] of objects) {
    for (const [key, versions] of keys) {
      const current = versions.at(-1);
      if (current === undefined) continue;
      entries.push([
        `${bucket}/${key}`,
        current.deleteMarker
          ? { exists: false }
          : {
              exists: true,
              size: current.size,
              eTag: current.eTag,
              tags: Object.fromEntries(
                Object.entries(current.tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
              ),
              grants: current.grants.map(grantText).sort(),
            },
      ]);
    }
  }
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as Record<
    string,
    { exists: boolean; size?: number; eTag?: string; tags?: Record<string, string>; grants?: string[] }
  >;
};

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

export interface S3ObjectCall {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

interface ObjectRequest {
  bucket: string;
  key: string;
  versionId?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface ObjectResult {
  status: number;
  headers?: Record<string, string>;
  document?: S3Document;
  /** A document the XmlObject renderer cannot express (attributes). */
  xml?: string;
}

export interface S3ObjectRoute {
  operation: string;
  params: Record<string, unknown>;
  run(context: OperationContext, requestId: string): HttpReply;
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};

const bucketOf = (state: FakeAccountState, name: string, expectedOwner: string | undefined): FakeBucket => {
  const bucket = state.buckets.get(name);
  if (!bucket)
    throw new AwsFault('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: name });
  if (expectedOwner !== undefined && expectedOwner !== bucket.ownerAccountId) {
    throw new AwsFault('AccessDenied', 'Access Denied', 403);
  }
  return bucket;
};

/** The versions of a key as stored (an empty list, not stored, for a key never written). */
const versionsOf = (state: FakeAccountState, bucket: string, key: string): FakeObjectVersion[] =>
  state.s3Objects.get(bucket)?.get(key) ?? [];

const storedVersions = (state: FakeAccountState, bucket: string, key: string): FakeObjectVersion[] => {
  const keys = state.s3Objects.get(bucket) ?? new Map<string, FakeObjectVersion[]>();
  state.s3Objects.set(bucket, keys);
  const versions = keys.get(key) ?? [];
  keys.set(key, versions);
  return versions;
};

/** The current object, or the named version, as S3 refuses a missing one. */
const pick = (
  state: FakeAccountState,
  bucket: FakeBucket,
  key: string,
  versionId: string | undefined,
): FakeObjectVersion => {
  const versions = versionsOf(state, bucket.name, key);
  if (versionId === undefined) {
    const current = versions.at(-1);
    if (!current || current.deleteMarker) {
      throw new AwsFault('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
    }
    return current;
  }
  if (!versioned(bucket) && versionId !== 'null') {
    throw new AwsFault('InvalidArgument', 'Invalid version id specified', 400, {
      ArgumentName: 'versionId',
      ArgumentValue: versionId,
    });
  }
  const version = versions.find((candidate) => candidate.versionId === versionId);
  if (!version) {
    throw new AwsFault('NoSuchVersion', 'The specified version does not exist.', 404, {
      Key: key,
      VersionId: versionId,
    });
  }
  if (version.deleteMarker) {
    throw new AwsFault(
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
      405,
      {
        Method: 'GET',
        ResourceType: 'DeleteMarker',
      },
    );
  }
  return version;
};

const versionHeader = (bucket: FakeBucket, version: FakeObjectVersion): Record<string, string> =>
  versioned(bucket) ? { 'x-amz-version-id': version.versionId } : {};

/** Adds a new current version: in a bucket not versioning (or suspended) it replaces the `null` one. */
const putVersion = (
  state: FakeAccountState,
  bucket: FakeBucket,
  key: string,
  version: FakeObjectVersion,
): void => {
  const versions = storedVersions(state, bucket.name, key);
  if (bucket.versioning !== 'Enabled') {
    const kept = versions.filter((candidate) => candidate.versionId !== 'null');
    versions.splice(0, versions.length, ...kept);
  }
  versions.push(version);
};

const readTagging = (body: string): Array<{ Key: string; Value: string }> => {
  const root = parseXml(body);
  const tagSet = root.name === 'Tagging' ? root.children.find((child) => child.name === 'TagSet') : undefined;
  if (!tagSet) throw malformedXml();
  return tagSet.children
    .filter((child) => child.name === 'Tag')
    .map((tag) => ({ Key: childText(tag, 'Key') ?? '', Value: childText(tag, 'Value') ?? '' }));
};

const checkedTags = (tags: Array<{ Key: string; Value: string }>): Record<string, string> => {
  if (tags.length > 10) throw new AwsFault('BadRequest', 'Object tags cannot be greater than 10');
  if (new Set(tags.map((tag) => tag.Key)).size !== tags.length) {
    throw new AwsFault('InvalidTag', 'Cannot provide multiple Tags with the same key');
  }
  return Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value]));
};

/** `x-amz-tagging`: a URL query string. */
const headerTags = (value: string | undefined): Record<string, string> =>
  checkedTags([...new URLSearchParams(value ?? '')].map(([Key, Value]) => ({ Key, Value })));

const grantsFromXml = (root: XmlElement): { ownerId?: string; grants: FakeGrant[] } => {
  if (root.name !== 'AccessControlPolicy') throw malformedXml();
  const owner = root.children.find((child) => child.name === 'Owner');
  const list = root.children.find((child) => child.name === 'AccessControlList');
  const grants = (list?.children ?? [])
    .filter((child) => child.name === 'Grant')
    .map((grant): FakeGrant => {
      const grantee = grant.children.find((child) => child.name === 'Grantee');
      const permission = childText(grant, 'Permission') as FakeGrant['permission'];
      if (!grantee || !['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'].includes(permission)) {
        throw malformedXml();
      }
      // The parser drops attributes, so `xsi:type` is read from the member the grantee carries.
      const id = childText(grantee, 'ID');
      const uri = childText(grantee, 'URI');
      const emailAddress = childText(grantee, 'EmailAddress');
      if (id) return { type: 'CanonicalUser', id, permission };
      if (uri) return { type: 'Group', uri, permission };
      if (emailAddress) return { type: 'AmazonCustomerByEmail', emailAddress, permission };
      throw malformedXml();
    });
  const ownerId = owner ? childText(owner, 'ID') : undefined;
  return { ...(ownerId ? { ownerId } : {}), grants };
};

const renderAcl = (version: FakeObjectVersion): string => {
  const grants = version.grants
    .map(
      (grant) =>
        `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="${grant.type}">` +
        (grant.id ? `<ID>${escapeXml(grant.id)}</ID>` : '') +
        (grant.uri ? `<URI>${escapeXml(grant.uri)}</URI>` : '') +
        (grant.emailAddress ? `<EmailAddress>${escapeXml(grant.emailAddress)}</EmailAddress>` : '') +
        `</Grantee><Permission>${grant.permission}</Permission></Grant>`,
    )
    .join('');
  return (
    `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${version.ownerId}</ID></Owner>` +
    `<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`
  );
};

const aclsDisabled = (bucket: FakeBucket): boolean => bucket.objectOwnership === 'BucketOwnerEnforced';

type Handler = (request: ObjectRequest, context: OperationContext) => ObjectResult;

const getObjectTagging: Handler = (request, { state }) => {
  const bucket = bucketOf(state, request.bucket, header(request.headers, 'x-amz-expected-bucket-owner'));
  const version = pick(state, bucket, request.key, request.versionId);
  return {
    status: 200,
    headers: versionHeader(bucket, version),
    document: {
      root: 'Tagging',
      content: { TagSet: Object.entries(version.tags).map(([Key, Value]) => ({ Key, Value })) },
      itemName: 'Tag',
    },
  };
};

const putObjectTagging: Handler = (request, { state }) => {
  const bucket = bucketOf(state, request.bucket, header(request.headers, 'x-amz-expected-bucket-owner'));
  const version = pick(state, bucket, request.key, request.versionId);
  version.tags = checkedTags(readTagging(request.body));
  return { status: 200, headers: versionHeader(bucket, version) };
};

const deleteObjectTagging: Handler = (request, { state }) => {
  const bucket = bucketOf(state, request.bucket, header(request.headers, 'x-amz-expected-bucket-owner'));
  const version = pick(state, bucket, request.key, request.versionId);
  version.tags = {};
  return { status: 204, headers: versionHeader(bucket, version) };
};

const getObjectAcl: Handler = (request, { state }) => {
  const bucket = bucketOf(state, request.bucket, header(request.headers, 'x-amz-expected-bucket-owner'));
  const version = pick(state, bucket, request.key, request.versionId);
  return { status: 200, headers: versionHeader(bucket, version), xml: renderAcl(version) };
};

/** A canned `x-amz-acl` or an AccessControlPolicy body; refused where the bucket disables ACLs. */
const putObjectAcl: Handler = (request, { state }) => {
  const bucket = bucketOf(state, request.bucket, header(request.headers, 'x-amz-expected-bucket-owner'));
  const version = pick(state, bucket, request.key, request.versionId);
  if (aclsDisabled(bucket)) {
    throw new AwsFault('AccessControlListNotSupported', 'The bucket does not allow ACLs');
  }
  const canned = header(request.headers, 'x-amz-acl');
  if (canned !== undefined) {
    version.grants = cannedGrants(canned, version.ownerId, canonicalIdOf(bucket.ownerAccountId));
  } else if (request.body.trim() !== '') {
    version.grants = grantsFromXml(parseXml(request.body)).grants;
  } else {
    throw new AwsFault('MissingSecurityHeader', 'Your request was missing a required header', 400, {
      MissingHeaderName: 'x-amz-acl',
    });
  }
  return { status: 200 };
};

const headObject: Handler = (request, { state }) => {
  const bucket = bucketOf(state, request.bucket, header(request.headers, 'x-amz-expected-bucket-owner'));
  const version = pick(state, bucket, request.key, request.versionId);
  return {
    status: 200,
    headers: {
      'accept-ranges': 'bytes',
      'last-modified': new Date(version.lastModified).toUTCString(),
      'content-length': String(version.size),
      etag: version.eTag,
      'content-type': version.contentType,
      'x-amz-server-side-encryption': version.serverSideEncryption,
      ...versionHeader(bucket, version),
    },
  };
};

/** `x-amz-copy-source`: `<bucket>/<url-encoded key>[?versionId=<id>]`, with or without a leading `/`. */
const copySourceOf = (value: string): { bucket: string; key: string; versionId?: string } => {
  const [path = '', query = ''] = value.replace(/^\//, '').split('?');
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) {
    throw new AwsFault(
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      400,
      {
        ArgumentName: 'x-amz-copy-source',
        ArgumentValue: value,
      },
    );
  }
  const versionId = new URLSearchParams(query).get('versionId') ?? undefined;
  return {
    bucket: decodeURIComponent(path.slice(0, slash)),
    key: decodeURIComponent(path.slice(slash + 1)),
    ...(versionId === undefined ? {} : { versionId }),
  };
};

/**
 * Copies one version into a new current version: metadata and tags copied or replaced as the
 * directives say, the ACL `x-amz-acl` (default private). The copy's ETag is the source's where that is
 * a digest of the content (single part, not SSE-KMS), a new one otherwise.
 */
const copyObject: Handler = (request, { state }) => {
  const source = copySourceOf(header(request.headers, 'x-amz-copy-source') ?? '');
  const sourceBucket = bucketOf(
    state,
    source.bucket,
    header(request.headers, 'x-amz-source-expected-bucket-owner'),
  );
  const target = bucketOf(state, request.bucket, header(request.headers, 'x-amz-expected-bucket-owner'));
  const original = pick(state, sourceBucket, source.key, source.versionId);
  const tagging = header(request.headers, 'x-amz-tagging-directive') ?? 'COPY';
  const metadata = header(request.headers, 'x-amz-metadata-directive') ?? 'COPY';
  if (!['COPY', 'REPLACE'].includes(tagging) || !['COPY', 'REPLACE'].includes(metadata)) {
    throw new AwsFault('InvalidArgument', 'Unknown directive', 400);
  }
  const ownerId = canonicalIdOf(target.ownerAccountId);
  const comparable = !original.eTag.includes('-') && !original.serverSideEncryption.startsWith('aws:kms');
  const copy: FakeObjectVersion = {
    versionId: target.versioning === 'Enabled' ? newVersionId() : 'null',
    deleteMarker: false,
    body: original.body,
    size: original.size,
    eTag: comparable ? original.eTag : md5ETag(`${original.body}${randomBytes(8).toString('hex')}`),
    contentType:
      metadata === 'REPLACE'
        ? (header(request.headers, 'content-type') ?? 'binary/octet-stream')
        : original.contentType,
    serverSideEncryption: original.serverSideEncryption,
    lastModified: new Date().toISOString(),
    tags: tagging === 'REPLACE' ? headerTags(header(request.headers, 'x-amz-tagging')) : { ...original.tags },
    ownerId,
    grants: cannedGrants(
      aclsDisabled(target) ? 'private' : (header(request.headers, 'x-amz-acl') ?? 'private'),
      ownerId,
      ownerId,
    ),
  };
  putVersion(state, target, request.key, copy);
  return {
    status: 200,
    headers: {
      ...versionHeader(target, copy),
      ...(versioned(sourceBucket) ? { 'x-amz-copy-source-version-id': original.versionId } : {}),
    },
    document: {
      root: 'CopyObjectResult',
      content: { ETag: copy.eTag, LastModified: copy.lastModified },
      itemName: 'item',
    },
  };
};

/**
 * A named version is removed for good; otherwise a versioned bucket gets a delete marker and an
 * unversioned one loses the object. S3 answers 204 whether or not there was anything to delete.
 */
const deleteObject: Handler = (request, { state }) => {
  const bucket = bucketOf(state, request.bucket, header(request.headers, 'x-amz-expected-bucket-owner'));
  const versions = versionsOf(state, bucket.name, request.key);
  if (request.versionId !== undefined) {
    const index = versions.findIndex((candidate) => candidate.versionId === request.versionId);
    const removed = index >= 0 ? versions.splice(index, 1)[0] : undefined;
    return {
      status: 204,
      headers: {
        'x-amz-version-id': request.versionId,
        ...(removed?.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}),
      },
    };
  }
  if (!versioned(bucket)) {
    versions.splice(0, versions.length);
    return { status: 204 };
  }
  const marker: FakeObjectVersion = {
    versionId: bucket.versioning === 'Enabled' ? newVersionId() : 'null',
    deleteMarker: true,
    body: '',
    size: 0,
    eTag: '',
    contentType: '',
    serverSideEncryption: '',
    lastModified: new Date().toISOString(),
    tags: {},
    ownerId: canonicalIdOf(bucket.ownerAccountId),
    grants: [],
  };
  putVersion(state, bucket, request.key, marker);
  return { status: 204, headers: { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId } };
};

const subresourceOf = (url: URL): string =>
  [...url.searchParams.keys()].find((name) => name !== 'x-id' && name !== 'versionId') ?? '';

/** Which object operation a request is, by method, subresource and the copy header. */
const handlerOf = (call: S3ObjectCall): [string, Handler] | undefined => {
  const sub = subresourceOf(call.url);
  const copy = header(call.headers, 'x-amz-copy-source') !== undefined;
  const table: Record<string, [string, Handler]> = {
    'GET tagging': ['GetObjectTagging', getObjectTagging],
    'PUT tagging': ['PutObjectTagging', putObjectTagging],
    'DELETE tagging': ['DeleteObjectTagging', deleteObjectTagging],
    'GET acl': ['GetObjectAcl', getObjectAcl],
    'PUT acl': ['PutObjectAcl', putObjectAcl],
    'HEAD ': ['HeadObject', headObject],
    'DELETE ': ['DeleteObject', deleteObject],
  };
  if (call.method === 'PUT' && sub === '' && copy) return ['CopyObject', copyObject];
  return table[`${call.method} ${sub}`];
};

const paramsOf = (operation: string, request: ObjectRequest): Record<string, unknown> => {
  const h = (name: string) => header(request.headers, name);
  const optional = (entries: Record<string, string | undefined>) =>
    Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
  const base = {
    Bucket: request.bucket,
    Key: request.key,
    ...optional({ VersionId: request.versionId, ExpectedBucketOwner: h('x-amz-expected-bucket-owner') }),
  };
  switch (operation) {
    case 'PutObjectTagging':
      try {
        return { ...base, Tagging: { TagSet: readTagging(request.body) } };
      } catch {
        return { ...base, Body: request.body };
      }
    case 'PutObjectAcl':
      return {
        ...base,
        ...optional({ ACL: h('x-amz-acl') }),
        ...(request.body ? { Body: request.body } : {}),
      };
    case 'CopyObject':
      return {
        ...base,
        ...optional({
          CopySource: h('x-amz-copy-source'),
          ExpectedSourceBucketOwner: h('x-amz-source-expected-bucket-owner'),
          MetadataDirective: h('x-amz-metadata-directive'),
          TaggingDirective: h('x-amz-tagging-directive'),
          Tagging: h('x-amz-tagging'),
          ACL: h('x-amz-acl'),
        }),
      };
    default:
      return base;
  }
};

/** The object operation of a path-style request for `/<bucket>/<key>`; undefined for anything else. */
export const s3ObjectRoute = (call: S3ObjectCall): S3ObjectRoute | undefined => {
  const [bucket = '', ...keyParts] = call.url.pathname.slice(1).split('/');
  const rawKey = keyParts.join('/');
  if (bucket === '' || rawKey === '') return undefined;
  const found = handlerOf(call);
  if (!found) return undefined;
  const [operation, handler] = found;
  const versionId = call.url.searchParams.get('versionId') ?? undefined;
  const request: ObjectRequest = {
    bucket: decodeURIComponent(bucket),
    key: decodeURIComponent(rawKey),
    ...(versionId === undefined ? {} : { versionId }),
    headers: call.headers,
    body: call.body,
  };
  return {
    operation,
    params: paramsOf(operation, request),
    run: (context, requestId) => {
      const result = handler(request, context);
      const base = s3Success(requestId, result.status, result.document);
      const xml = result.xml === undefined ? {} : { body: `${XML_DECLARATION}${result.xml}` };
      return {
        ...base,
        headers: {
          ...base.headers,
          ...(result.xml === undefined ? {} : { 'content-type': 'application/xml' }),
          ...result.headers,
        },
        ...xml,
      };
    },
  };
};

/** GET `/<bucket>?ownershipControls`: the bucket's Object Ownership, OwnershipControlsNotFoundError without one. */
export const getBucketOwnershipControls: S3Operation = {
  params: (request) => ({
    Bucket: request.bucket,
    ...(request.expectedBucketOwner === undefined
      ? {}
      : { ExpectedBucketOwner: request.expectedBucketOwner }),
  }),
  run(request, { state }) {
    const bucket = bucketOf(state, request.bucket, request.expectedBucketOwner);
    if (bucket.objectOwnership === undefined) {
      throw new AwsFault(
        'OwnershipControlsNotFoundError',
        'The bucket ownership controls were not found',
        404,
        {
          BucketName: bucket.name,
        },
      );
    }
    return {
      status: 200,
      document: {
        root: 'OwnershipControls',
        content: { Rule: { ObjectOwnership: bucket.objectOwnership } },
        itemName: 'item',
      },
    };
  },
};
