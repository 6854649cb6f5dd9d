import { describe, it } from 'vitest';
import { persistentFaultsHold } from './faults.js';

describe('throttling on every attempt of one call, until Lambda delivers the event again', () => {
  it(
    'RequestLimitExceeded, Throttling and 503 SlowDown on every attempt: reported, retried by Lambda, nothing repeated',
    () => persistentFaultsHold('throttle'),
    90_000,
  );
});
