import { isRecord } from './values.js';

/**
 * The id of each step: its own `id`, or else its action name, suffixed `-2`, `-3`, ... when that id is
 * taken. Explicit ids are reserved first, so a default never collides with one written further down.
 * `undefined` for an entry that is not a step at all (the schema reports it).
 */
export const stepIds = (actions: unknown[]): (string | undefined)[] => {
  const taken = new Set(
    actions.flatMap((step) => (isRecord(step) && typeof step.id === 'string' ? [step.id] : [])),
  );
  return actions.map((step) => {
    if (!isRecord(step)) return undefined;
    if (typeof step.id === 'string') return step.id;
    if (typeof step.action !== 'string') return undefined;
    let id = step.action;
    for (let n = 2; taken.has(id); n += 1) id = `${step.action}-${n}`;
    taken.add(id);
    return id;
  });
};

/**
 * The cycles among `after:` references, each as the path of step indexes that closes it
 * (`[0, 2, 0]`: step 0 waits for step 2, which waits for step 0). Each cycle is reported once,
 * from its earliest step.
 */
export const afterCycles = (waitsFor: number[][]): number[][] => {
  const cycles: number[][] = [];
  const inCycle = new Set<number>();
  for (let start = 0; start < waitsFor.length; start += 1) {
    if (inCycle.has(start)) continue;
    const path = pathBack(start, waitsFor);
    if (path) {
      cycles.push(path);
      for (const index of path) inCycle.add(index);
    }
  }
  return cycles;
};

/** A path from `start` through `waitsFor` edges back to `start`, if there is one. */
const pathBack = (start: number, waitsFor: number[][]): number[] | undefined => {
  const visited = new Set<number>();
  const search = (from: number, path: number[]): number[] | undefined => {
    for (const next of waitsFor[from] ?? []) {
      if (next === start) return [...path, start];
      if (visited.has(next)) continue;
      visited.add(next);
      const found = search(next, [...path, next]);
      if (found) return found;
    }
    return undefined;
  };
  return search(start, [start]);
};
