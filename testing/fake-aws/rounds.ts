import type { RecordedCall } from './server.js';

/**
 * Sequential round trips in a recorded call log: calls sorted by arrival, a round being calls that
 * overlap (one arrives before every earlier call of the round has been answered); the next round
 * starts once they all are. Each call's round, from 1.
 */
export const roundsOf = (calls: readonly RecordedCall[]): Map<RecordedCall, number> => {
  const rounds = new Map<RecordedCall, number>();
  let round = 0;
  let answeredBy = Number.NEGATIVE_INFINITY;
  for (const call of [...calls].sort((a, b) => a.receivedMs - b.receivedMs)) {
    if (call.receivedMs >= answeredBy) round += 1;
    answeredBy = Math.max(answeredBy, call.answeredMs ?? Number.POSITIVE_INFINITY);
    rounds.set(call, round);
  }
  return rounds;
};
