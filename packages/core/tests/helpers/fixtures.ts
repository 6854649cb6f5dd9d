/**
 * Raw findings from tests/fixtures/findings by folder and number, and the small tools the
 * normalize tests use to break them: a changed copy, and the FindingFormatError a call throws.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { FindingFormatError } from '../../src/errors.js';

export type Json = Record<string, unknown>;

const FIXTURES = new URL('../fixtures/findings/', import.meta.url);

/** A fresh copy of a fixture, e.g. fixtureJson('documented', '01'). */
export const fixtureJson = (folder: string, number: string): Json => {
  const dir = new URL(`${folder}/`, FIXTURES);
  const file = readdirSync(dir).find((name) => name.startsWith(`${number}-`));
  if (!file) throw new Error(`no fixture ${folder}/${number}`);
  return JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
};

/** A copy of `input` with the node at `keys` replaced (`undefined` deletes it). */
export const withValue = (input: Json, keys: (string | number)[], value: unknown): Json => {
  const copy = structuredClone(input);
  let node = copy as Record<string | number, unknown>;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) throw new Error(`no node at ${keys.join('/')}`);
    node = next as Record<string | number, unknown>;
  }
  const last = keys.at(-1) as string | number;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
};

/** The node at `keys` of `input`. */
export const valueAt = (input: unknown, keys: (string | number)[]): unknown =>
  keys.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], input);

/** Runs `act` and returns the FindingFormatError it throws (failing the test on anything else). */
export const formatError = (act: () => unknown): FindingFormatError => {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(FindingFormatError);
    return error as FindingFormatError;
  }
  throw new Error('expected a FindingFormatError, nothing was thrown');
};
