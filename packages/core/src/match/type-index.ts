import type { TypePattern } from './pattern.js';

/** GuardDuty defines a few hundred finding types; room for all of them and then some. */
const MAX_MEMOIZED_TYPES = 1024;

/** Types come from the input: the memo is bounded so a stream of made-up types cannot grow it forever. */
const memoized = <T>(memo: Map<string, readonly T[]>, type: string, compute: () => readonly T[]) => {
  let found = memo.get(type);
  if (found === undefined) {
    found = compute();
    if (memo.size >= MAX_MEMOIZED_TYPES) memo.clear();
    memo.set(type, found);
  }
  return found;
};

/** What the index holds: anything with a position in the matcher's priority order. */
export interface Indexed {
  ordinal: number;
}

/** `UnauthorizedAccess` for `UnauthorizedAccess:IAMUser/...`; undefined when the text has no `:`. */
const threatPurpose = (text: string): string | undefined => {
  const colon = text.indexOf(':');
  return colon === -1 ? undefined : text.slice(0, colon);
};

const append = <T extends Indexed>(bucket: T[], entry: T): void => {
  // Entries arrive in ordinal order, so a playbook filed twice in one bucket would sit last.
  if (bucket.at(-1) !== entry) bucket.push(entry);
};

const fileUnder = <T extends Indexed>(map: Map<string, T[]>, key: string, entry: T): void => {
  const bucket = map.get(key);
  if (bucket) append(bucket, entry);
  else map.set(key, [entry]);
};

/**
 * Finds the playbooks worth testing against a finding type without looking at the others.
 * Exact types sit in a map; wildcard patterns sit in a bucket per threat purpose (the literal text
 * before `:`); patterns whose literal prefix stops before the `:` (`*:S3/**`, `Unauthorized*`) and
 * entries with no type criterion sit in one generic bucket that every finding looks at.
 */
export class TypeIndex<T extends Indexed> {
  readonly #exact = new Map<string, T[]>();
  readonly #byPurpose = new Map<string, T[]>();
  readonly #generic: T[] = [];
  readonly #patterns = new Map<T, readonly TypePattern[]>();
  /** Candidates by finding type, merged once: findings of one type keep arriving. */
  readonly #merged = new Map<string, readonly T[]>();
  /** The candidates whose patterns match, by finding type. */
  readonly #matching = new Map<string, readonly T[]>();

  /** Files an entry under each of its patterns. Add entries in ordinal order. */
  add(entry: T, patterns: readonly TypePattern[] | undefined): void {
    this.#merged.clear();
    this.#matching.clear();
    if (patterns !== undefined) this.#patterns.set(entry, patterns);
    if (patterns === undefined) {
      append(this.#generic, entry);
      return;
    }
    for (const pattern of patterns) {
      if (pattern.exact) {
        fileUnder(this.#exact, pattern.source, entry);
        continue;
      }
      const purpose = threatPurpose(pattern.literalPrefix);
      if (purpose === undefined) append(this.#generic, entry);
      else fileUnder(this.#byPurpose, purpose, entry);
    }
  }

  /** The entries whose patterns may match `type`, each once, in ordinal order. */
  candidates(type: string): readonly T[] {
    return memoized(this.#merged, type, () => this.#merge(type));
  }

  /** The candidates whose type patterns match `type`, and those without patterns, in ordinal order. */
  matching(type: string): readonly T[] {
    return memoized(this.#matching, type, () =>
      this.candidates(type).filter(
        (entry) => this.#patterns.get(entry)?.some((pattern) => pattern.test(type)) ?? true,
      ),
    );
  }

  #merge(type: string): readonly T[] {
    const purpose = threatPurpose(type);
    const buckets = [
      this.#exact.get(type),
      purpose === undefined ? undefined : this.#byPurpose.get(purpose),
      this.#generic,
    ].filter((bucket): bucket is T[] => bucket !== undefined && bucket.length > 0);
    if (buckets.length === 0) return [];
    if (buckets.length === 1) return [...(buckets[0] as T[])];
    const merged = buckets.flat().sort((a, b) => a.ordinal - b.ordinal);
    return merged.filter((entry, index) => index === 0 || merged[index - 1] !== entry);
  }
}
