import type { FindingResult } from '../result.js';

/**
 * One finding's idempotency record. The key is the finding's partition, account, region, detector and
 * id (`findingKey`); an occurrence is the
 * finding's `updatedAt` (GuardDuty re-publishes an ongoing finding with the same id, a later
 * `updatedAt` and a higher count).
 */
export interface IdempotencyRecord {
  key: string;
  status: 'in-progress' | 'completed';
  /** The occurrence being handled, or the last one handled. */
  updatedAt: string;
  /** The last occurrence whose handling completed, with the playbooks that ran and the answer given. */
  completedUpdatedAt?: string;
  playbooks: string[];
  report?: FindingResult;
  /** Epoch milliseconds until which an in-progress record holds off others: the invocation's deadline. */
  inProgressUntil: number;
  /** Epoch seconds after which the record no longer counts (the DynamoDB TTL attribute). */
  expiresAt: number;
  /** The invocation that holds (or last held) the record. */
  owner: string;
}

export interface BeginRequest {
  key: string;
  updatedAt: string;
  owner: string;
  /** Epoch milliseconds. */
  now: number;
  inProgressUntil: number;
  expiresAt: number;
}

/**
 * What earlier handling left: the last completed occurrence (absent when none completed) and the
 * playbooks that are done. A later delivery runs only the playbooks that are not.
 */
export interface PreviousCompletion {
  updatedAt?: string;
  playbooks: string[];
  report?: FindingResult;
}

export type BeginOutcome =
  /** This invocation now holds the finding; `previous` is set when an earlier occurrence completed. */
  | { status: 'acquired'; previous?: PreviousCompletion }
  /** This occurrence (or a later one) was handled already. */
  | { status: 'completed'; record: IdempotencyRecord }
  /** Another invocation holds the finding and its deadline has not passed. */
  | { status: 'in-progress'; record: IdempotencyRecord };

export interface CompleteRequest {
  key: string;
  owner: string;
  updatedAt: string;
  playbooks: string[];
  report: FindingResult;
  expiresAt: number;
}

export interface IdempotencyStore {
  /** Atomically claims the finding's occurrence, or says why not. */
  begin(request: BeginRequest): Promise<BeginOutcome>;
  /** Stores the answer and frees the record. False when this invocation no longer held it. */
  complete(request: CompleteRequest): Promise<boolean>;
  /**
   * Frees the record without completing the occurrence, so the next delivery handles it again;
   * `playbooks` (the ones that are done) are kept, and only the others run then.
   */
  release(key: string, owner: string, playbooks?: string[]): Promise<void>;
}

/** The idempotency key: one GuardDuty finding, wherever and however often it is delivered. */
export const findingKey = (finding: {
  partition: string;
  accountId: string;
  region: string;
  detectorId: string;
  id: string;
}): string =>
  [finding.partition, finding.accountId, finding.region, finding.detectorId, finding.id].join('/');

/**
 * The one decision every store makes, given the record as it stands (the DynamoDB store states the
 * same rule as a condition expression).
 */
export const decide = (record: IdempotencyRecord | undefined, request: BeginRequest): BeginOutcome => {
  if (record === undefined || record.expiresAt * 1000 <= request.now) return { status: 'acquired' };
  if (record.status === 'in-progress' && record.inProgressUntil > request.now)
    return { status: 'in-progress', record };
  if (record.completedUpdatedAt !== undefined && record.completedUpdatedAt >= request.updatedAt) {
    return { status: 'completed', record };
  }
  return record.completedUpdatedAt === undefined && record.playbooks.length === 0
    ? { status: 'acquired' }
    : {
        status: 'acquired',
        previous: {
          ...(record.completedUpdatedAt === undefined ? {} : { updatedAt: record.completedUpdatedAt }),
          playbooks: record.playbooks,
          ...(record.report ? { report: record.report } : {}),
        },
      };
};

/**
 * The occurrence as a string that sorts in time order: ISO timestamps are rewritten in one form
 * (`2024-01-02T03:04:05.000Z`), so `.5Z` and `.500Z` are the same occurrence. No timestamp: ''.
 */
export const occurrenceOf = (updatedAt: string | undefined): string => {
  if (updatedAt === undefined) return '';
  const time = Date.parse(updatedAt);
  return Number.isNaN(time) ? updatedAt : new Date(time).toISOString();
};
