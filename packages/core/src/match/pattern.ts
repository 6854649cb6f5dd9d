/**
 * Finding-type patterns. A type reads `ThreatPurpose:ResourceType/ThreatFamily.Mechanism!Artifact`;
 * `:` and `/` separate its segments. `*` matches within one segment (never across `:` or `/`), `**`
 * matches across segments. Everything else is literal and case-sensitive, as GuardDuty spells types.
 *
 *   UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*   both .OutsideAWS and .InsideAWS
 *   Discovery:S3/MaliciousIPCaller*                                 also MaliciousIPCaller.Custom
 *   *:S3/**                                                         every S3 type
 *
 * Matching takes time linear in the type for a given pattern (see `simulate`): types are hostile
 * input, so no pattern may make one expensive to match.
 */
const PATTERN_SYNTAX = /^[A-Za-z0-9:/.!&_*-]+$/;

export interface TypePattern {
  source: string;
  /** The literal text before the first wildcard: candidates are found by this prefix. */
  literalPrefix: string;
  exact: boolean;
  test(type: string): boolean;
}

/** Returns why `pattern` is not a valid finding-type pattern, or undefined when it is. */
export const typePatternProblem = (pattern: string): string | undefined => {
  if (pattern.length === 0) return 'must not be empty';
  if (!PATTERN_SYNTAX.test(pattern)) {
    return `"${pattern}" may only contain letters, digits, : / . ! & _ - and wildcards`;
  }
  if (pattern.includes('***')) return `"${pattern}" has "***"; use "*" within a segment or "**" across`;
  return undefined;
};

/** One step of a compiled pattern: a literal character, `*` (within a segment) or `**` (across). */
const STAR = -1;
const GLOBSTAR = -2;

const COLON = 0x3a;
const SLASH = 0x2f;

/** `**` stops where a regular expression's `.` would: at line terminators (types never hold one). */
const isLineTerminator = (code: number): boolean =>
  code === 0x0a || code === 0x0d || code === 0x2028 || code === 0x2029;

/** The pattern as steps: char codes for literals, STAR and GLOBSTAR for the wildcards. */
const stepsOf = (pattern: string): Int32Array => {
  const steps: number[] = [];
  pattern.split('**').forEach((part, index) => {
    if (index > 0) steps.push(GLOBSTAR);
    part.split('*').forEach((literal, at) => {
      if (at > 0) steps.push(STAR);
      for (let i = 0; i < literal.length; i += 1) steps.push(literal.charCodeAt(i));
    });
  });
  return Int32Array.from(steps);
};

/**
 * Whether `type` matches the steps, by simulating all positions in the pattern at once (Thompson's
 * construction): one pass over the type, at most one visit of each pattern step per character, so
 * O(type length x pattern length) whatever the wildcards, with no backtracking. (The regular
 * expression this replaces backtracked exponentially: `Backdoor:EC2/*.*.*.*.*.*Z` took seconds on
 * a 100-character type.)
 */
const simulate = (steps: Int32Array, type: string): boolean => {
  const size = steps.length;
  let current = new Uint8Array(size + 1);
  let next = new Uint8Array(size + 1);
  // A wildcard may match nothing: whoever is at a wildcard is also past it.
  const close = (states: Uint8Array): boolean => {
    let any = false;
    for (let i = 0; i <= size; i += 1) {
      if (states[i] !== 1) continue;
      any = true;
      if (i < size && steps[i]! < 0) states[i + 1] = 1;
    }
    return any;
  };
  current[0] = 1;
  close(current);
  for (let position = 0; position < type.length; position += 1) {
    const code = type.charCodeAt(position);
    next.fill(0);
    for (let i = 0; i < size; i += 1) {
      if (current[i] !== 1) continue;
      const step = steps[i]!;
      if (step === code) next[i + 1] = 1;
      else if (
        step === STAR ? code !== COLON && code !== SLASH : step === GLOBSTAR && !isLineTerminator(code)
      )
        next[i] = 1;
    }
    if (!close(next)) return false;
    [current, next] = [next, current];
  }
  return current[size] === 1;
};

export const compileTypePattern = (pattern: string): TypePattern => {
  const problem = typePatternProblem(pattern);
  if (problem) throw new TypeError(`invalid finding-type pattern: ${problem}`);
  const firstWildcard = pattern.indexOf('*');
  if (firstWildcard === -1) {
    return { source: pattern, literalPrefix: pattern, exact: true, test: (type) => type === pattern };
  }
  const literalPrefix = pattern.slice(0, firstWildcard);
  const literalSuffix = pattern.slice(pattern.lastIndexOf('*') + 1);
  const steps = stepsOf(pattern);
  return {
    source: pattern,
    literalPrefix,
    exact: false,
    test: (type) =>
      type.length >= literalPrefix.length + literalSuffix.length &&
      type.startsWith(literalPrefix) &&
      type.endsWith(literalSuffix) &&
      simulate(steps, type),
  };
};

/** T1078 or T1078.004 */
export const TECHNIQUE_ID = /^T\d{4}(\.\d{3})?$/;

/** A technique criterion matches the technique itself and its sub-techniques. */
export const techniqueMatches = (criterion: string, techniqueId: string): boolean =>
  techniqueId === criterion || (!criterion.includes('.') && techniqueId.startsWith(`${criterion}.`));
