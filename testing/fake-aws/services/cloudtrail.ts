import { AwsFault } from '../errors.js';
import type { OperationContext } from '../protocols.js';
import type { FakeTrail } from '../state.js';

export type JsonOperation = (
  input: Record<string, unknown>,
  context: OperationContext,
) => Record<string, unknown>;

/** CloudTrail accepts a trail's name or its ARN wherever `Name` is asked for. */
const trailOrThrow = (input: Record<string, unknown>, { state }: OperationContext): FakeTrail => {
  const name = input.Name;
  if (typeof name !== 'string' || name === '') {
    throw new AwsFault('InvalidTrailNameException', 'Trail name cannot be null or empty.');
  }
  const trail =
    state.trails.get(name) ?? [...state.trails.values()].find((candidate) => candidate.name === name);
  if (!trail)
    throw new AwsFault('TrailNotFoundException', `Unknown trail: ${name} for the user: ${state.accountId}`);
  return trail;
};

// The JSON protocol carries timestamps as epoch seconds.
const epochSeconds = (iso: string | undefined): number | undefined =>
  iso === undefined ? undefined : Date.parse(iso) / 1000;

const getTrailStatus: JsonOperation = (input, context) => {
  const trail = trailOrThrow(input, context);
  return {
    IsLogging: trail.isLogging,
    StartLoggingTime: epochSeconds(trail.startLoggingTime),
    StopLoggingTime: epochSeconds(trail.stopLoggingTime),
  };
};

const startLogging: JsonOperation = (input, context) => {
  const trail = trailOrThrow(input, context);
  trail.isLogging = true;
  trail.startLoggingTime = new Date().toISOString();
  return {};
};

const stopLogging: JsonOperation = (input, context) => {
  const trail = trailOrThrow(input, context);
  trail.isLogging = false;
  trail.stopLoggingTime = new Date().toISOString();
  return {};
};

export const cloudTrailOperations: Record<string, JsonOperation> = {
  GetTrailStatus: getTrailStatus,
  StartLogging: startLogging,
  StopLogging: stopLogging,
};
