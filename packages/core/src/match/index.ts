export type { CriterionName, MatchedCriterion } from './criteria.js';
export type {
  DefaultExclusion,
  ExemptTag,
  MatchExplanation,
  Matcher,
  MatcherOptions,
  PlaybookMatch,
} from './matcher.js';
export { createMatcher, DEFAULT_EXEMPT_TAG } from './matcher.js';
