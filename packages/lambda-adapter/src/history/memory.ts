import type { Decision, HistoryQuery, HistoryRecord, HistoryStore } from './record.js';
import { checkedDecision, checkedQuery, checkedRecord, jsonCopy } from './shape.js';

/** The order records sort in: by time, then kind and id, as the DynamoDB sort key orders them. */
const sortKey = (record: HistoryRecord): string => `${record.at}#${record.kind}#${record.id}`;

/**
 * History in the process's memory: for tests, and for a function deployed without a history table
 * (records last as long as the container, and are not shared between containers). Same semantics as
 * the DynamoDB store: a record is replaced by one with the same finding, time, kind and id; records
 * are copied in and out, so a caller changing a report afterwards changes nothing stored; a decision
 * is taken once. Each operation runs without awaiting, so two concurrent decisions cannot both win.
 */
export const createMemoryHistory = (): HistoryStore => {
  const findings = new Map<string, Map<string, HistoryRecord>>();
  const decisions = new Map<string, Decision>();

  return {
    put: async (record: HistoryRecord): Promise<void> => {
      const copy = jsonCopy(checkedRecord(record));
      let records = findings.get(copy.findingId);
      if (!records) {
        records = new Map();
        findings.set(copy.findingId, records);
      }
      records.set(sortKey(copy), copy);
    },

    forFinding: async (findingId: string): Promise<HistoryRecord[]> =>
      [...(findings.get(findingId)?.entries() ?? [])]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, record]) => jsonCopy(record)),

    list: async (query: HistoryQuery): Promise<HistoryRecord[]> => {
      const { since, accountId, limit } = checkedQuery(query);
      return [...findings.values()]
        .flatMap((records) => [...records.values()])
        .filter((record) => record.at >= since && (accountId === undefined || record.accountId === accountId))
        .sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : sortKey(a) > sortKey(b) ? -1 : 0))
        .slice(0, limit)
        .map(jsonCopy);
    },

    decide: async (findingId: string, decision: Decision) => {
      const checked = checkedDecision(findingId, decision);
      const key = `${findingId}\u0000${checked.responseId}`;
      const existing = decisions.get(key);
      if (existing) return { taken: false, existing: jsonCopy(existing) };
      decisions.set(key, jsonCopy(checked));
      return { taken: true };
    },
  };
};
