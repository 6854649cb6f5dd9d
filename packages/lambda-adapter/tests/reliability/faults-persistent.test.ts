import { describe, it } from 'vitest';
import { KINDS, persistentFaultsHold } from './faults.js';

// Persistent throttling has a file of its own (faults-throttling.test.ts): it is by far the slowest
// (the clients' adaptive retry backs off for seconds), and vitest runs files in parallel.
describe('a fault on every attempt of one call, until Lambda delivers the event again', () => {
  it.each(KINDS.filter((kind) => kind !== 'throttle'))(
    '%s on every attempt of each call: reported with its code, retried by Lambda when worth it, nothing repeated',
    persistentFaultsHold,
    60_000,
  );
});
