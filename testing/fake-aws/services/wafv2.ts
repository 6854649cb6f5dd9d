import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { AwsFault, FakeAwsError } from '../errors.js';
import type { OperationContext } from '../protocols.js';

/**
 * AWS WAF (v2) IP sets: GetIPSet, UpdateIPSet, ListIPSets over awsJson1_1 (`X-Amz-Target:
 * AWSWAF_20190729.<Operation>`), members as @aws-sdk/client-wafv2's model spells them (`Name`, `Scope`,
 * `Id`, `Addresses`, `LockToken`, `Description`; `IPSet` with `ARN` and `IPAddressVersion`;
 * `NextLockToken`; `IPSets` of summaries with `LockToken`). Errors: WAFNonexistentItemException,
 * WAFOptimisticLockException, WAFLimitsExceededException (`Message`), WAFInvalidParameterException
 * (`message`, `Field`, `Parameter`, `Reason`). Only types are imported from state.ts.
 */

export type WafScope = 'REGIONAL' | 'CLOUDFRONT';

export interface WafIpSetSeed {
  name: string;
  /** A UUID, as WAF generates them. */
  id: string;
  /** Default REGIONAL. */
  scope?: WafScope;
  /** A REGIONAL set's region (default the account's); a CLOUDFRONT set is in us-east-1. */
  region?: string;
  /** Default IPV4. */
  ipAddressVersion?: 'IPV4' | 'IPV6';
  /** CIDRs (`/32` for a single IPv4 address). */
  addresses?: string[];
  description?: string;
}

export interface FakeWafIpSet {
  name: string;
  id: string;
  scope: WafScope;
  region: string;
  arn: string;
  ipAddressVersion: 'IPV4' | 'IPV6';
  addresses: string[];
  description?: string;
  /** Changes on every update; an update must carry the current one. */
  lockToken: string;
}

/** CloudFront (global) IP sets are managed in us-east-1. */
const CLOUDFRONT_REGION = 'us-east-1';
/** AWS WAF quota: addresses per IP set. */
const MAX_ADDRESSES = 10000;

const ID = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/;
const NAME = /^[\w-]{1,128}$/;

const arnOf = (accountId: string, scope: WafScope, region: string, name: string, id: string): string =>
  `arn:aws:wafv2:${region}:${accountId}:${scope === 'CLOUDFRONT' ? 'global' : 'regional'}/ipset/${name}/${id}`;

/** The seeded IP sets, by ARN. */
export const wafIpSetsOf = (
  seeds: WafIpSetSeed[],
  accountId: string,
  region: string,
): Map<string, FakeWafIpSet> => {
  const sets = new Map<string, FakeWafIpSet>();
  for (const seed of seeds) {
    const scope = seed.scope ?? 'REGIONAL';
    if (!ID.test(seed.id) || !NAME.test(seed.name)) {
      throw new FakeAwsError(
        'SEED_INVALID',
        'a WAF IP set needs a UUID id and a name of 1-128 word characters',
        {
          name: seed.name,
          id: seed.id,
        },
      );
    }
    const setRegion = scope === 'CLOUDFRONT' ? CLOUDFRONT_REGION : (seed.region ?? region);
    const arn = arnOf(accountId, scope, setRegion, seed.name, seed.id);
    sets.set(arn, {
      name: seed.name,
      id: seed.id,
      scope,
      region: setRegion,
      arn,
      ipAddressVersion: seed.ipAddressVersion ?? 'IPV4',
      addresses: [...(seed.addresses ?? [])],
      ...(seed.description === undefined ? {} : { description: seed.description }),
      lockToken: randomUUID(),
    });
  }
  return sets;
};

// ---------------------------------------------------------------------------------------------
// Errors, as WAF words them
// ---------------------------------------------------------------------------------------------

const invalidParameter = (field: string, parameter: string, reason: string): AwsFault =>
  new AwsFault(
    'WAFInvalidParameterException',
    `Error reason: ${reason}, field: ${field}, parameter: ${parameter}`,
    400,
    { Field: field, Parameter: parameter, Reason: reason },
  );

const nonexistent = (): AwsFault =>
  new AwsFault(
    'WAFNonexistentItemException',
    'AWS WAF couldn’t perform the operation because your resource doesn’t exist.',
  );

/** WAFInvalidParameterException carries `message`; WAF's other errors `Message` (the SDK's model). */
export const wafMessageMember = (code: string): 'message' | 'Message' =>
  code === 'WAFInvalidParameterException' ? 'message' : 'Message';

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

export type WafOperation = (
  input: Record<string, unknown>,
  context: OperationContext,
) => Record<string, unknown>;

const text = (input: Record<string, unknown>, name: string, field: string): string => {
  const value = input[name];
  if (typeof value !== 'string' || value === '')
    throw invalidParameter(field, String(value ?? 'null'), 'A required field is missing');
  return value;
};

/** The scope, checked against the request's region: CLOUDFRONT only in us-east-1. */
const scopeOf = (input: Record<string, unknown>, context: OperationContext): WafScope => {
  const scope = text(input, 'Scope', 'SCOPE_VALUE');
  if (scope !== 'REGIONAL' && scope !== 'CLOUDFRONT') {
    throw invalidParameter('SCOPE_VALUE', scope, 'The scope is not valid.');
  }
  const region = context.region ?? context.state.region;
  if (scope === 'CLOUDFRONT' && region !== CLOUDFRONT_REGION) {
    throw invalidParameter('SCOPE_VALUE', scope, 'The scope is not valid.');
  }
  return scope;
};

const requestRegion = (context: OperationContext): string => context.region ?? context.state.region;

/** The set named by `Name`, `Scope` and `Id` in the request's region; anything else does not exist. */
const ipSetOrThrow = (input: Record<string, unknown>, context: OperationContext): FakeWafIpSet => {
  const scope = scopeOf(input, context);
  const name = text(input, 'Name', 'NAME');
  const id = text(input, 'Id', 'RESOURCE_ID');
  const set = context.state.wafIpSets.get(
    arnOf(context.state.accountId, scope, requestRegion(context), name, id),
  );
  if (!set) throw nonexistent();
  return set;
};

const getIpSet: WafOperation = (input, context) => {
  const set = ipSetOrThrow(input, context);
  return {
    IPSet: {
      Name: set.name,
      Id: set.id,
      ARN: set.arn,
      ...(set.description === undefined ? {} : { Description: set.description }),
      IPAddressVersion: set.ipAddressVersion,
      Addresses: [...set.addresses],
    },
    LockToken: set.lockToken,
  };
};

/** A CIDR of the set's version: an address with a prefix within its family's width. */
const validCidr = (cidr: string, version: 'IPV4' | 'IPV6'): boolean => {
  const [address = '', prefix = '', ...rest] = cidr.split('/');
  const family = isIP(address);
  const width = family === 4 ? 32 : 128;
  return (
    rest.length === 0 &&
    family === (version === 'IPV4' ? 4 : 6) &&
    /^\d{1,3}$/.test(prefix) &&
    Number(prefix) >= 1 &&
    Number(prefix) <= width
  );
};

/** Replaces the set's addresses and description (omitted: cleared, as the API replaces the whole set). */
const updateIpSet: WafOperation = (input, context) => {
  const set = ipSetOrThrow(input, context);
  const addresses = input.Addresses;
  if (!Array.isArray(addresses) || addresses.some((address) => typeof address !== 'string')) {
    throw invalidParameter('IP_ADDRESS', 'null', 'A required field is missing');
  }
  const token = text(input, 'LockToken', 'LOCK_TOKEN');
  const invalid = (addresses as string[]).find((address) => !validCidr(address, set.ipAddressVersion));
  if (invalid !== undefined) {
    throw invalidParameter('IP_ADDRESS', invalid, 'The parameter contains formatting that is not valid.');
  }
  if (addresses.length > MAX_ADDRESSES) {
    throw new AwsFault(
      'WAFLimitsExceededException',
      'AWS WAF couldn’t perform the operation because you exceeded your resource limit.',
    );
  }
  if (token !== set.lockToken) {
    throw new AwsFault(
      'WAFOptimisticLockException',
      'AWS WAF couldn’t save your changes because someone changed the resource after you started to edit it. Reapply your changes.',
    );
  }
  const description = input.Description;
  set.addresses = [...new Set(addresses as string[])];
  if (typeof description === 'string') set.description = description;
  else delete set.description;
  set.lockToken = randomUUID();
  return { NextLockToken: set.lockToken };
};

/** The sets of the scope in the request's region, by name; no paging (`NextMarker` never set). */
const listIpSets: WafOperation = (input, context) => {
  const scope = scopeOf(input, context);
  const region = requestRegion(context);
  return {
    IPSets: [...context.state.wafIpSets.values()]
      .filter((set) => set.scope === scope && set.region === region)
      .sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0))
      .map((set) => ({
        Name: set.name,
        Id: set.id,
        ...(set.description === undefined ? {} : { Description: set.description }),
        LockToken: set.lockToken,
        ARN: set.arn,
      })),
  };
};

export const wafv2Operations: Record<string, WafOperation> = {
  GetIPSet: getIpSet,
  UpdateIPSet: updateIpSet,
  ListIPSets: listIpSets,
};

/** Each IP set by ARN: its version, addresses (sorted) and description (`null` without); no lock token. */
export const wafIpSetSnapshot = (
  sets: Map<string, FakeWafIpSet>,
): Record<string, { ipAddressVersion: string; addresses: string[]; description: string | null }> =>
  Object.fromEntries(
    [...sets.values()]
      .sort((left, right) => (left.arn < right.arn ? -1 : left.arn > right.arn ? 1 : 0))
      .map((set) => [
        set.arn,
        {
          ipAddressVersion: set.ipAddressVersion,
          addresses: [...set.addresses].sort(),
          description: set.description ?? null,
        },
      ]),
  );
