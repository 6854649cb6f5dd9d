/**
 * Finding-type patterns. A type reads `ThreatPurpose:ResourceType/ThreatFamily.Mechanism!Artifact`;
 * `:` and `/` separate its segments. `*` matches within one segment (never across `:` or `/`), `**`
 * matches across segments. Everything else is literal and case-sensitive, as GuardDuty spells types.
 *
 *   UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*   both .OutsideAWS and .InsideAWS
 *   Discovery:S3/MaliciousIPCaller*                                 also MaliciousIPCaller.Custom
 *   *:S3/**                                                         every S3 type
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

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const compileTypePattern = (pattern: string): TypePattern => {
  const problem = typePatternProblem(pattern);
  if (problem) throw new TypeError(`invalid finding-type pattern: ${problem}`);
  const firstWildcard = pattern.indexOf('*');
  if (firstWildcard === -1) {
    return { source: pattern, literalPrefix: pattern, exact: true, test: (type) => type === pattern };
  }
  const body = pattern
    .split('**')
    .map((part) => part.split('*').map(escapeRegExp).join('[^:/]*'))
    .join('.*');
  const regex = new RegExp(`^${body}$`);
  return {
    source: pattern,
    literalPrefix: pattern.slice(0, firstWildcard),
    exact: false,
    test: (type) => regex.test(type),
  };
};

/** T1078 or T1078.004 */
export const TECHNIQUE_ID = /^T\d{4}(\.\d{3})?$/;

/** A technique criterion matches the technique itself and its sub-techniques. */
export const techniqueMatches = (criterion: string, techniqueId: string): boolean =>
  techniqueId === criterion || (!criterion.includes('.') && techniqueId.startsWith(`${criterion}.`));
