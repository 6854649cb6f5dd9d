/**
 * Type patterns that name no finding type GuardDuty has ever raised. Such a pattern never matches, and
 * nothing else would tell its author: it is almost always a slip (`Exfiltration:S3/ObjectRead.Unusal`,
 * `UnauthorizedAccess:EC2/InstanceCredentialExfiltration.OutsideAWS`), so the loader warns about it
 * with the patterns the author most likely meant.
 */
import { compileTypePattern, typePatternProblem } from '../match/pattern.js';
import { MAX_FINDING_TYPE_LENGTH } from '../normalize/finding-type.js';
import { allowedEdits, nameDistance, nearest } from '../suggest.js';
import { FINDING_TYPES } from './finding-types.js';

/** Active types first: when two suggestions are as near, the one GuardDuty still raises comes first. */
const KNOWN_TYPES: readonly string[] = [
  ...FINDING_TYPES.filter((entry) => !entry.deprecated),
  ...FINDING_TYPES.filter((entry) => entry.deprecated),
].map((entry) => entry.type);

const LONGEST_TYPE = Math.max(...KNOWN_TYPES.map((type) => type.length));

/**
 * What a whole segment replaced by another costs (`EC2` for `IAMUser`): more than any typo within
 * one, so a slip is suggested before a different resource or purpose.
 */
const SEGMENT_SWAP = 3;

/** A pattern as tokens: each literal character, `*` and `**` (a pattern has no literal `*`). */
const tokensOf = (pattern: string): string[] =>
  pattern
    .split('**')
    .flatMap((part, index) => [
      ...(index > 0 ? ['**'] : []),
      ...part.split('*').flatMap((literal, at) => [...(at > 0 ? ['*'] : []), ...literal]),
    ]);

const isWildcard = (token: string | undefined): boolean => token === '*' || token === '**';

/** Whether `edits` to a pattern's literal characters still read as a slip rather than another pattern. */
const closeEnough = (pattern: string, edits: number): boolean =>
  edits <= allowedEdits(pattern.replaceAll('*', '').length);

/** Whether a wildcard may stand for this character: `*` stops at `:` and `/`, `**` does not. */
const absorbs = (token: string, character: string): boolean =>
  token === '**' || (token === '*' && character !== ':' && character !== '/');

const MOVE = { match: 1, swap: 2, absorb: 3, wildcardEnd: 4, drop: 5, insert: 6 } as const;

/**
 * The fewest edits to `pattern`'s literal characters that make it match `type` (wildcards stand for
 * what they can at no cost; a change of case costs half), and the pattern those edits give: its
 * wildcards kept, its literals as `type` spells them. Edits go only into literals, so the corrected
 * pattern matches `type` by construction.
 */
export const alignPattern = (pattern: string, type: string): { edits: number; corrected: string } => {
  const tokens = tokensOf(pattern);
  const rows = tokens.length + 1;
  const width = type.length + 1;
  const cost = new Float64Array(rows * width).fill(Number.POSITIVE_INFINITY);
  const move = new Uint8Array(rows * width);
  const at = (i: number, j: number): number => i * width + j;
  cost[0] = 0;
  for (let j = 1; j < width; j += 1) {
    cost[at(0, j)] = j;
    move[at(0, j)] = MOVE.insert;
  }
  for (let i = 1; i < rows; i += 1) {
    const token = tokens[i - 1]!;
    for (let j = 0; j < width; j += 1) {
      const character = type[j - 1] ?? '';
      const options: [number, number][] = [];
      if (!isWildcard(token)) {
        if (j > 0) {
          const substitution =
            token === character ? 0 : token.toLowerCase() === character.toLowerCase() ? 0.5 : 1;
          options.push([cost[at(i - 1, j - 1)]! + substitution, MOVE.match]);
          const earlier = tokens[i - 2];
          if (
            j > 1 &&
            earlier !== undefined &&
            !isWildcard(earlier) &&
            token !== earlier &&
            token === type[j - 2] &&
            earlier === character
          ) {
            options.push([cost[at(i - 2, j - 2)]! + 1, MOVE.swap]);
          }
        }
        options.push([cost[at(i - 1, j)]! + 1, MOVE.drop]);
        // Characters are inserted only after a literal (or at the start), never inside a wildcard's
        // run, so the corrected pattern keeps each wildcard where it stood.
        if (j > 0) options.push([cost[at(i, j - 1)]! + 1, MOVE.insert]);
      } else {
        if (j > 0 && absorbs(token, character)) options.push([cost[at(i, j - 1)]!, MOVE.absorb]);
        options.push([cost[at(i - 1, j)]!, MOVE.wildcardEnd]);
      }
      // The first of equal options wins: a match over an edit, an edit of a character over a drop.
      let best: [number, number] = [Number.POSITIVE_INFINITY, 0];
      for (const option of options) if (option[0] < best[0]) best = option;
      cost[at(i, j)] = best[0];
      move[at(i, j)] = best[1];
    }
  }

  const corrected: string[] = [];
  let i = tokens.length;
  let j = type.length;
  while (i > 0 || j > 0) {
    switch (move[at(i, j)]) {
      case MOVE.match:
        corrected.push(type[j - 1]!);
        i -= 1;
        j -= 1;
        break;
      case MOVE.swap:
        corrected.push(type[j - 1]!, type[j - 2]!);
        i -= 2;
        j -= 2;
        break;
      case MOVE.absorb:
        j -= 1;
        break;
      case MOVE.wildcardEnd:
        corrected.push(tokens[i - 1]!);
        i -= 1;
        break;
      case MOVE.drop:
        i -= 1;
        break;
      default:
        corrected.push(type[j - 1]!);
        j -= 1;
    }
  }
  return { edits: cost[at(tokens.length, type.length)]!, corrected: corrected.reverse().join('') };
};

/** `Purpose:Resource/Family...` as its three segments, or undefined for any other shape. */
const segmentsOf = (text: string): [string, string, string] | undefined => {
  const match = /^([^:/]*):([^:/]*)\/([^:/]*)$/.exec(text);
  return match ? [match[1]!, match[2]!, match[3]!] : undefined;
};

/** How near a pattern segment is to a type's, and the segment it would become; undefined when too far. */
const segmentDistance = (
  pattern: string,
  type: string,
): { distance: number; corrected: string } | undefined => {
  if (!pattern.includes('*')) {
    const distance = nameDistance(pattern, type);
    return distance === undefined ? undefined : { distance, corrected: type };
  }
  const { edits, corrected } = alignPattern(pattern, type);
  return closeEnough(pattern, edits) ? { distance: edits, corrected } : undefined;
};

/**
 * How near `pattern` is to `type`, segment by segment: each segment within a few edits of the type's
 * (a family may also leave off a trailing mechanism: `InstanceCredentialExfiltration` for
 * `InstanceCredentialExfiltration.OutsideAWS`), or the purpose or the resource swapped whole while
 * the rest is exact. Patterns of another shape (a `**`, a missing separator) are compared whole.
 */
const typeDistance = (pattern: string, type: string): [string, number | undefined] => {
  const parts = pattern.includes('**') ? undefined : segmentsOf(pattern);
  const typeParts = segmentsOf(type);
  if (!parts || !typeParts) {
    const { edits, corrected } = alignPattern(pattern, type);
    return [corrected, closeEnough(pattern, edits) ? edits : undefined];
  }
  const near = parts.map((part, index) => segmentDistance(part, typeParts[index]!));
  const far = near.flatMap((segment, index) => (segment === undefined ? [index] : []));
  const corrected = typeParts.map((typePart, index) => near[index]?.corrected ?? typePart);
  const text = `${corrected[0]}:${corrected[1]}/${corrected[2]}`;
  if (far.length === 0) return [text, near.reduce((sum, segment) => sum + segment!.distance, 0)];
  const [swapped] = far;
  const exactElsewhere = near.every((segment, index) => index === swapped || segment?.distance === 0);
  // The family says what happened; only the purpose or the resource is ever swapped whole.
  const swappable = far.length === 1 && swapped !== 2 && !parts[swapped!]!.includes('*') && exactElsewhere;
  return [text, swappable ? SEGMENT_SWAP : undefined];
};

/**
 * Whether no type can be near: the pattern is longer than a type can be, or it has more literal
 * characters than the longest of `types` even after the edits a slip may make.
 */
const tooLong = (pattern: string, types: readonly string[]): boolean => {
  const literals = pattern.replaceAll('*', '').length;
  return (
    pattern.length > MAX_FINDING_TYPE_LENGTH ||
    literals - allowedEdits(literals) > Math.max(...types.map((type) => type.length))
  );
};

/** The patterns `pattern` most likely meant, nearest first; none when no known type is near. */
export const suggestTypePatterns = (pattern: string, types: readonly string[] = KNOWN_TYPES): string[] =>
  tooLong(pattern, types) ? [] : nearest(types.map((type) => typeDistance(pattern, type)));

/**
 * Undefined when `pattern` matches a type in the catalog (active or retired), or is not a valid
 * pattern at all (the loader reports that as an error); otherwise the patterns it may have meant.
 * Pass it to the loader as `LoadOptions.unknownFindingType` to have such patterns reported as warnings.
 */
export const unknownFindingType = (pattern: string): { suggestions: string[] } | undefined => {
  if (typePatternProblem(pattern) !== undefined) return undefined;
  // More literal characters than the longest type holds: it cannot match any (and is not worth
  // simulating, however many wildcards it has).
  const literals = pattern.replaceAll('*', '').length;
  if (literals <= LONGEST_TYPE) {
    const compiled = compileTypePattern(pattern);
    if (KNOWN_TYPES.some((type) => compiled.test(type))) return undefined;
  }
  return { suggestions: suggestTypePatterns(pattern) };
};
