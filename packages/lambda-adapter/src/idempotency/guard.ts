import { randomUUID } from 'node:crypto';
import { IdempotencyStoreError } from '../errors.js';
import type { Logger } from '../logger.js';
import { answer, type FindingResult, type FindingSubject } from '../result.js';
import type { BeginOutcome, IdempotencyStore, PreviousCompletion } from './store.js';

export interface IdempotencyGuardOptions {
  store: IdempotencyStore;
  /** How long a record lasts after its last write, in seconds. */
  ttlSeconds: number;
  /** Where a record that could not be written is reported; the answer stands all the same. */
  logger: Logger;
  clock?: () => Date;
}

/** One attempt at one occurrence of a finding, whatever delivered it. */
export interface GuardClaim {
  /** The record's key (`findingKey`). */
  key: string;
  /** The occurrence (`occurrenceOf(finding.updatedAt)`). */
  occurrence: string;
  /** The invocation making the attempt; each attempt holds the record under an owner id of its own. */
  invocationId: string;
  /** How long the attempt holds off others, in milliseconds (the time its invocation has left). */
  holdMs: number;
  /** What every answer about this finding carries: its identifiers, mode and verification. */
  subject: FindingSubject;
}

/** What the guarded work hands back. */
export interface Completion {
  /** The answer; stored with the record when the occurrence is finished. */
  result: FindingResult;
  /** The playbooks this run left with nothing to do: later deliveries do not run them again. */
  done: string[];
  /** False leaves the occurrence open: the record is released and the next delivery runs what is left. */
  finished: boolean;
}

/** The work to run at most once per occurrence; `previous` is what earlier occurrences settled. */
export type GuardedWork = (previous: PreviousCompletion | undefined) => Promise<Completion>;

export interface IdempotencyGuard {
  /**
   * Begins (claims the occurrence), runs the work, then completes the record (stores the answer) or
   * releases it (keeping the playbooks that are done). A duplicate gets the stored answer, or
   * `IN_PROGRESS` while another attempt holds the record; a store that cannot be reached,
   * `IDEMPOTENCY_FAILED`. In those cases the work does not run. When the work throws, the record is
   * released, so that a retry runs it, and the error goes on to the caller.
   */
  run(claim: GuardClaim, work: GuardedWork): Promise<FindingResult>;
}

/**
 * The idempotency protocol around one finding's answer, on any `IdempotencyStore` (as Powertools'
 * `IdempotencyHandler` runs on a persistence layer): the store keeps records and decides atomically;
 * the guard says when to claim, what a duplicate is answered, and when a record is finished.
 */
export const createIdempotencyGuard = (options: IdempotencyGuardOptions): IdempotencyGuard => {
  const { store, ttlSeconds, logger } = options;
  const clock = options.clock ?? (() => new Date());
  const expiresAt = (now: number): number => Math.floor(now / 1000) + ttlSeconds;

  const duplicate = (
    claim: GuardClaim,
    begun: Exclude<BeginOutcome, { status: 'acquired' }>,
  ): FindingResult => {
    const { record } = begun;
    if (begun.status === 'completed') {
      const stored = record.report;
      const when = record.completedUpdatedAt || 'its only occurrence';
      return answer(
        { ...(stored ?? claim.subject), verification: claim.subject.verification },
        'ALREADY_HANDLED',
        `already handled (occurrence ${when}); nothing was run again${stored ? `; earlier: ${stored.message}` : ''}`,
      );
    }
    // Another occurrence in progress: this one still needs handling once that one is done.
    const other = record.updatedAt !== claim.occurrence;
    return answer(
      claim.subject,
      'IN_PROGRESS',
      other
        ? `another occurrence (${record.updatedAt}) of this finding is being handled; retry later`
        : 'a duplicate of a delivery being handled now; nothing was run',
      other,
    );
  };

  const record = async (
    claim: GuardClaim,
    owner: string,
    previous: PreviousCompletion | undefined,
    completion: Completion,
  ): Promise<void> => {
    const { key, occurrence, subject } = claim;
    const playbooks = [...new Set([...(previous?.playbooks ?? []), ...completion.done])];
    try {
      if (!completion.finished) {
        await store.release(key, owner, playbooks);
        return;
      }
      const kept = await store.complete({
        key,
        owner,
        updatedAt: occurrence,
        playbooks,
        report: completion.result,
        expiresAt: expiresAt(clock().getTime()),
      });
      if (!kept) {
        logger.warn(
          { findingId: subject.findingId },
          'the idempotency record was taken over while this invocation ran (its deadline passed)',
        );
      }
    } catch (error) {
      // The work is done; only its record is missing, so a duplicate may repeat idempotent steps.
      logger.error({ findingId: subject.findingId, err: error }, 'could not record the finding as handled');
    }
  };

  const run = async (claim: GuardClaim, work: GuardedWork): Promise<FindingResult> => {
    const owner = `${claim.invocationId}/${randomUUID()}`;
    const now = clock().getTime();
    let begun: BeginOutcome;
    try {
      begun = await store.begin({
        key: claim.key,
        updatedAt: claim.occurrence,
        owner,
        now,
        inProgressUntil: now + claim.holdMs,
        expiresAt: expiresAt(now),
      });
    } catch (error) {
      if (!(error instanceof IdempotencyStoreError)) throw error;
      return answer(
        claim.subject,
        'IDEMPOTENCY_FAILED',
        `${error.message}; nothing was run`,
        error.retryable,
      );
    }
    if (begun.status !== 'acquired') return duplicate(claim, begun);

    let completion: Completion;
    try {
      completion = await work(begun.previous);
    } catch (error) {
      await store.release(claim.key, owner).catch(() => undefined);
      throw error;
    }
    await record(claim, owner, begun.previous, completion);
    return completion.result;
  };

  return { run };
};
