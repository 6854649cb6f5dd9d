import {
  type BeginOutcome,
  type BeginRequest,
  type CompleteRequest,
  decide,
  type IdempotencyRecord,
  type IdempotencyStore,
} from './store.js';

export interface MemoryStoreOptions {
  /** The most records kept; the oldest go first. Default 10,000. */
  maxEntries?: number;
}

/**
 * Idempotency records in the container's memory: catches duplicates delivered to the same warm
 * container (EventBridge retries, the admin and member copies), not across containers. Each
 * operation runs without awaiting, so two concurrent invocations in one process cannot both claim.
 */
export const createMemoryStore = (options: MemoryStoreOptions = {}): IdempotencyStore => {
  const maxEntries = options.maxEntries ?? 10_000;
  const records = new Map<string, IdempotencyRecord>();

  const put = (record: IdempotencyRecord): void => {
    records.delete(record.key);
    records.set(record.key, record);
    while (records.size > maxEntries) {
      const oldest = records.keys().next().value;
      if (oldest === undefined) break;
      records.delete(oldest);
    }
  };

  return {
    begin: async (request: BeginRequest): Promise<BeginOutcome> => {
      const record = records.get(request.key);
      const outcome = decide(record, request);
      if (outcome.status === 'acquired') {
        const kept = outcome.previous;
        put({
          key: request.key,
          status: 'in-progress',
          updatedAt: request.updatedAt,
          ...(kept?.updatedAt === undefined ? {} : { completedUpdatedAt: kept.updatedAt }),
          ...(kept?.report === undefined ? {} : { report: kept.report }),
          playbooks: kept?.playbooks ?? [],
          inProgressUntil: request.inProgressUntil,
          expiresAt: request.expiresAt,
          owner: request.owner,
        });
      }
      return outcome;
    },
    complete: async (request: CompleteRequest): Promise<boolean> => {
      const record = records.get(request.key);
      if (record?.owner !== request.owner || record.status !== 'in-progress') return false;
      put({
        ...record,
        status: 'completed',
        completedUpdatedAt: request.updatedAt,
        playbooks: request.playbooks,
        report: request.report,
        inProgressUntil: 0,
        expiresAt: request.expiresAt,
      });
      return true;
    },
    release: async (key: string, owner: string, playbooks?: string[]): Promise<void> => {
      const record = records.get(key);
      if (record?.owner === owner && record.status === 'in-progress')
        put({ ...record, inProgressUntil: 0, ...(playbooks ? { playbooks } : {}) });
    },
  };
};
