/**
 * "Did you mean": the known names closest to one a person typed that is not known. Shared by the
 * playbook loader (keys, action names) and the finding-type catalog (type patterns), so every
 * suggestion Riposte makes is chosen by the same rules.
 */

/** The most names one message offers: more reads as a list, not a suggestion. */
const MAX_SUGGESTIONS = 3;

/** Words a name may add to the one typed and still be what was meant (`isolate` for `isolate-instance`). */
const MAX_EXTRA_WORDS = 2;

const substitutionCost = (a: string, b: string): number =>
  a === b ? 0 : a.toLowerCase() === b.toLowerCase() ? 0.5 : 1;

/**
 * The edits that turn `a` into `b`: insertions, deletions, substitutions and swaps of two adjacent
 * characters (optimal string alignment). A change of case costs half an edit: `onerror` is nearer
 * `onError` than `owner` is.
 */
export const editDistance = (a: string, b: string): number => {
  const width = b.length + 1;
  // Three rows suffice: a swap looks two rows back.
  let before = new Float64Array(width);
  let previous = Float64Array.from({ length: width }, (_, j) => j);
  let current = new Float64Array(width);
  for (let i = 1; i <= a.length; i += 1) {
    current[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      let cost = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + substitutionCost(a[i - 1]!, b[j - 1]!),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1] && a[i - 1] !== a[i - 2]) {
        cost = Math.min(cost, before[j - 2]! + 1);
      }
      current[j] = cost;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
};

/** The edits a name of `length` characters may be off by and still read as a slip: a third, at least one. */
export const allowedEdits = (length: number): number => Math.max(1, Math.floor(length / 3));

/** The words of a name: its kebab, snake, dotted and camelCase parts, lowercased. */
const wordsOf = (name: string): string[] =>
  name
    .split(/[-_.:/\s]+|(?<=[a-z0-9])(?=[A-Z])/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase());

/** How many words `candidate` adds when every word of `typed` is in it, in order; else undefined. */
const extraWords = (typed: string, candidate: string): number | undefined => {
  const wanted = wordsOf(typed);
  const words = wordsOf(candidate);
  if (wanted.length === 0) return undefined;
  let next = 0;
  for (const word of words) if (word === wanted[next]) next += 1;
  return next === wanted.length ? words.length - wanted.length : undefined;
};

/**
 * How far `candidate` is from what `typed` meant, lower is nearer; undefined when it is too far to
 * suggest. Near: within a few edits, or the same words with one or two more (`detach-profile` for
 * `detach-instance-profile`). Each added word counts a little more than one edit, so a slip of one
 * character is offered before a longer name.
 */
export const nameDistance = (typed: string, candidate: string): number | undefined => {
  if (typed.toLowerCase() === candidate.toLowerCase()) return typed === candidate ? 0 : 0.5;
  const edits = editDistance(typed, candidate);
  const extra = extraWords(typed, candidate);
  const byWords = extra !== undefined && extra <= MAX_EXTRA_WORDS ? extra + 0.5 : undefined;
  const byEdits = edits <= allowedEdits(typed.length) ? edits : undefined;
  return byWords === undefined ? byEdits : byEdits === undefined ? byWords : Math.min(byEdits, byWords);
};

/**
 * The nearest of scored candidates: those tied for the lowest score, in the order given (so a caller
 * lists what it prefers first), at most three. Unscored candidates are never suggested.
 */
export const nearest = (scored: Iterable<readonly [string, number | undefined]>): string[] => {
  let best = Number.POSITIVE_INFINITY;
  let found: string[] = [];
  for (const [candidate, score] of scored) {
    if (score === undefined || score > best) continue;
    if (score < best) {
      best = score;
      found = [];
    }
    if (!found.includes(candidate)) found.push(candidate);
  }
  return found.slice(0, MAX_SUGGESTIONS);
};

/** The known names `typed` most likely meant (none when nothing is close); `typed` itself is never one. */
export const closestNames = (typed: string, known: Iterable<string>): string[] =>
  nearest([...known].filter((name) => name !== typed).map((name) => [name, nameDistance(typed, name)]));

/** `message`, followed by a "did you mean" naming the suggestions when there are any. */
export const didYouMean = (message: string, suggestions: readonly string[]): string => {
  if (suggestions.length === 0) return message;
  const quoted = suggestions.map((suggestion) => `"${suggestion}"`);
  const last = quoted.pop()!;
  return `${message}; did you mean ${quoted.length > 0 ? `${quoted.join(', ')} or ${last}` : last}?`;
};
