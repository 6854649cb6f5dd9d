import { isObject } from '@riposte/core';
import { HistoryError } from '../errors.js';
import type { Decision, HistoryKind, HistoryQuery, HistoryRecord } from './record.js';

/**
 * What every history store checks, on the way in (a record it is asked to keep) and on the way out
 * (whatever a table or a file holds is untrusted: altered, written by another version, or not ours).
 */

export const HISTORY_KINDS: readonly HistoryKind[] = ['response', 'approval', 'rejection', 'expiry', 'undo'];
const DECISIONS: readonly Decision['decision'][] = ['approval', 'rejection'];

/** The default number of records `list` returns. */
export const DEFAULT_LIST_LIMIT = 100;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A time as `Date#toISOString` writes it (`2025-06-03T14:07:12.481Z`), the form reports use. Only
 * that form sorts as text in time order, which the stores' keys and `list` rely on.
 */
export const isUtcTimestamp = (value: unknown): value is string =>
  typeof value === 'string' && ISO_UTC.test(value) && new Date(value).toISOString() === value;

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';

const RECORD_STRINGS = [
  'findingId',
  'id',
  'actor',
  'accountId',
  'region',
  'findingType',
  'mode',
  'outcome',
] as const;

/** Why a report is not one the CLI and the approval can read; `undefined` when it is. */
const reportProblem = (report: unknown): string | undefined => {
  if (!isObject(report)) return 'is not an object';
  if (!Array.isArray(report.steps)) return 'has no steps array';
  if (!Array.isArray(report.matched)) return 'has no matched array';
  const index = report.steps.findIndex(
    (step) => !isObject(step) || !nonEmpty(step.key) || !nonEmpty(step.status) || !Array.isArray(step.calls),
  );
  return index === -1 ? undefined : `step ${index} is not a step report (key, status, calls)`;
};

const verificationProblem = (verification: unknown): string | undefined =>
  !isObject(verification)
    ? 'is not an object'
    : !nonEmpty(verification.status)
      ? 'has no status'
      : !Array.isArray(verification.requestIds) ||
          !verification.requestIds.every((id) => typeof id === 'string')
        ? 'has no requestIds array'
        : undefined;

const findingProblem = (finding: unknown): string | undefined =>
  !isObject(finding)
    ? 'is not an object'
    : !nonEmpty(finding.id) || !nonEmpty(finding.accountId) || !Array.isArray(finding.resources)
      ? 'is not a normalized finding (id, accountId, resources)'
      : undefined;

/** Why a value is not a history record; `undefined` when it is. Names fields, never their values. */
export const recordProblem = (value: unknown): string | undefined => {
  if (!isObject(value)) return 'the record is not an object';
  for (const field of RECORD_STRINGS) {
    if (!nonEmpty(value[field])) return `${field} is not a non-empty string`;
  }
  if (!HISTORY_KINDS.includes(value.kind as HistoryKind)) {
    return `kind is not one of ${HISTORY_KINDS.join(', ')}`;
  }
  if (!isUtcTimestamp(value.at)) return 'at is not an ISO 8601 UTC time (YYYY-MM-DDTHH:mm:ss.sssZ)';
  if (typeof value.severity !== 'number' || !Number.isFinite(value.severity)) {
    return 'severity is not a number';
  }
  const report = reportProblem(value.report);
  if (report) return `report ${report}`;
  if (value.verification !== undefined) {
    const problem = verificationProblem(value.verification);
    if (problem) return `verification ${problem}`;
  }
  if (value.finding !== undefined) {
    const problem = findingProblem(value.finding);
    if (problem) return `finding ${problem}`;
  }
  if (value.heldUntil !== undefined && !isUtcTimestamp(value.heldUntil)) {
    return 'heldUntil is not an ISO 8601 UTC time';
  }
  return undefined;
};

/** Why a value is not a decision; `undefined` when it is. */
export const decisionProblem = (value: unknown): string | undefined => {
  if (!isObject(value)) return 'the decision is not an object';
  if (!DECISIONS.includes(value.decision as Decision['decision'])) {
    return 'decision is not approval or rejection';
  }
  for (const field of ['responseId', 'actor'] as const) {
    if (!nonEmpty(value[field])) return `${field} is not a non-empty string`;
  }
  return isUtcTimestamp(value.at) ? undefined : 'at is not an ISO 8601 UTC time';
};

/** The record a store was handed, checked: a store never keeps what it could not read back. */
export const checkedRecord = (record: HistoryRecord): HistoryRecord => {
  const problem = recordProblem(record);
  if (problem) {
    throw new HistoryError('HISTORY_INVALID', `not a history record: ${problem}`, {
      details: { findingId: typeof record?.findingId === 'string' ? record.findingId : undefined },
    });
  }
  return record;
};

export const checkedDecision = (findingId: string, decision: Decision): Decision => {
  const problem = nonEmpty(findingId) ? decisionProblem(decision) : 'findingId is not a non-empty string';
  if (problem)
    throw new HistoryError('HISTORY_INVALID', `not a decision: ${problem}`, { details: { findingId } });
  return decision;
};

export interface CheckedQuery {
  /** `since` as the records' `at` is written, to compare as text. */
  since: string;
  accountId?: string;
  limit: number;
}

export const checkedQuery = (query: HistoryQuery): CheckedQuery => {
  if (!(query.since instanceof Date) || Number.isNaN(query.since.getTime())) {
    throw new RangeError('history query: since must be a valid Date');
  }
  const limit = query.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`history query: limit must be a positive whole number, not ${limit}`);
  }
  return {
    since: query.since.toISOString(),
    ...(query.accountId === undefined ? {} : { accountId: query.accountId }),
    limit,
  };
};

/** A deep copy, as the record would come back from JSON storage (no shared objects, no undefined). */
export const jsonCopy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
