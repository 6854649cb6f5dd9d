import type { AwsCall, CallRecord, ResponseState } from '@riposte/core';
import type { CallResult, SdkCall } from './call.js';

/**
 * The reads of one response, kept so that a step does not ask AWS again what planning, or another
 * step, has just asked: the plan's lookups serve execute's re-checks, and two steps reading the same
 * role share one call (also while it is still in flight). It never answers with something a
 * mutation may have changed since:
 *
 * - a mutation clears the kept reads of its service in its account, before it is sent and again once
 *   it is answered; a tag write (CreateTags, TagRole...) clears only the reads whose answers carry
 *   tags, which is every read but those listed in `UNTAGGED_READS`;
 * - a mutation another step reported without going through a session (a custom action's own SDK
 *   call) clears the same once that step has finished: the engine logs it in the response state;
 * - a read older than `READ_MEMO_TTL_MS` is sent again; a failed read is never kept (an expected
 *   "nothing there" answer, such as NoSuchEntity, is kept: it is what AWS holds).
 */
export const READ_MEMO_TTL_MS = 60_000;

/** Mutations that change only a resource's tags. */
const TAG_WRITES: ReadonlySet<string> = new Set([
  'EC2 CreateTags',
  'EC2 DeleteTags',
  'IAM TagRole',
  'IAM UntagRole',
  'IAM TagUser',
  'IAM UntagUser',
  'S3 PutBucketTagging',
  'S3 DeleteBucketTagging',
  'S3 PutObjectTagging',
  'S3 DeleteObjectTagging',
  'ECS TagResource',
  'ECS UntagResource',
]);

/** Reads whose answers carry no tags, so that a tag write cannot change them. */
const UNTAGGED_READS: ReadonlySet<string> = new Set([
  'EC2 DescribeIamInstanceProfileAssociations',
  'IAM GetRolePolicy',
  'IAM GetUserPolicy',
  'IAM ListAccessKeys',
  'IAM ListAttachedUserPolicies',
  'S3 GetPublicAccessBlock',
  'S3 GetBucketOwnershipControls',
  'S3 GetObjectAcl',
]);

const nameOf = (call: Pick<AwsCall, 'service' | 'operation'>): string => `${call.service} ${call.operation}`;

/** JSON with object keys sorted: two inputs that ask the same give the same key. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : item,
  );

interface Answer {
  result: CallResult<unknown>;
  /** A copy of the output, from which every reader gets its own; absent when it could not be copied. */
  kept?: unknown;
}

interface Entry {
  /** `SERVICE account`: what a mutation clears. */
  scope: string;
  name: string;
  sentAt: number;
  answer: Promise<Answer>;
}

/** A read's answer, and whether it came from the memo rather than from a call this reader sent. */
export interface MemoAnswer<O> {
  result: CallResult<O>;
  reused: boolean;
}

export class ReadMemo {
  private readonly entries = new Map<string, Entry>();
  /** The mutations this memo cleared for as they were sent; the engine's log lists them again. */
  private readonly cleared = new WeakSet<CallRecord>();
  private logged = 0;

  constructor(
    private readonly log: readonly CallRecord[] = [],
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * The answer to `request`: the one this response holds, or is waiting for, else `send()`'s. `keep`
   * says whether an answer may serve later readers. A request without an address is always sent.
   */
  async read<O>(
    request: SdkCall<O>,
    send: () => Promise<CallResult<O>>,
    keep: (result: CallResult<O>) => boolean,
  ): Promise<MemoAnswer<O>> {
    this.catchUp();
    const { address, call } = request;
    if (address === undefined) return { result: await send(), reused: false };
    const key = canonical([
      call.service,
      call.operation,
      address.scope.accountId,
      address.scope.region,
      address.input,
    ]);
    const held = this.entries.get(key);
    if (held !== undefined && this.clock() - held.sentAt <= READ_MEMO_TTL_MS) {
      const { result, kept } = await held.answer;
      if (result.ok && kept !== undefined) {
        return { result: { ...result, output: structuredClone(kept) as O }, reused: true };
      }
      // A failure reaches only the readers that waited for it: it is dropped once answered.
      if (!result.ok) return { result: result as CallResult<O>, reused: true };
      // An output that cannot be copied (a stream) serves only the reader that sent for it.
      return { result: await send(), reused: false };
    }
    const entry: Entry = {
      scope: `${call.service} ${address.scope.accountId}`,
      name: nameOf(call),
      sentAt: this.clock(),
      answer: send().then((result) => ({ result, ...copyOf(result) })),
    };
    this.entries.set(key, entry);
    const answer = await entry.answer;
    const result = answer.result as CallResult<O>;
    if (!keep(result) || (result.ok && answer.kept === undefined)) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    }
    return { result, reused: false };
  }

  /**
   * Clears the reads a mutation may change: call it before the mutation is sent, and again with its
   * record once it is answered, so that a read made meanwhile is not kept either.
   */
  forget(request: SdkCall, record?: CallRecord): void {
    if (record !== undefined) this.cleared.add(record);
    const account = request.address?.scope.accountId;
    this.clear(request.call, account);
  }

  /** Clears for the mutations other steps reported since the last read. */
  private catchUp(): void {
    for (; this.logged < this.log.length; this.logged += 1) {
      const record = this.log[this.logged]!;
      // A record names no account: every account's reads of the service are cleared.
      if (!this.cleared.has(record)) this.clear(record, undefined);
    }
  }

  private clear(mutation: Pick<AwsCall, 'service' | 'operation'>, account: string | undefined): void {
    const tagsOnly = TAG_WRITES.has(nameOf(mutation));
    for (const [key, entry] of this.entries) {
      const sameScope =
        account === undefined
          ? entry.scope.startsWith(`${mutation.service} `)
          : entry.scope === `${mutation.service} ${account}`;
      if (sameScope && !(tagsOnly && UNTAGGED_READS.has(entry.name))) this.entries.delete(key);
    }
  }
}

/** A copy of a successful output to hand out; none when it cannot be copied (a stream). */
const copyOf = (result: CallResult<unknown>): { kept?: unknown } => {
  if (!result.ok) return {};
  try {
    return { kept: structuredClone(result.output) };
  } catch {
    return {};
  }
};

const MEMO = Symbol('riposte.read-memo');

/** The read memo of the response `ctx` belongs to; `undefined` when the action runs outside one. */
export const readMemoOf = ({ shared }: { shared?: ResponseState | undefined }): ReadMemo | undefined => {
  if (shared === undefined) return undefined;
  let memo = shared.values.get(MEMO) as ReadMemo | undefined;
  if (memo === undefined) {
    memo = new ReadMemo(shared.mutations);
    shared.values.set(MEMO, memo);
  }
  return memo;
};
