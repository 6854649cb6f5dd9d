export {
  type Coverage,
  type CoverageGroup,
  type CoverageOptions,
  type CoverageResponse,
  type CoverageVia,
  computeCoverage,
  type PlaybookCoverage,
  type TacticCoverage,
  type TechniqueCoverage,
  type TypeCoverage,
  type TypeHandler,
} from './coverage.js';
export {
  activeFindingTypes,
  type CatalogSeverity,
  FINDING_TYPES,
  type FindingTypeEntry,
  findingTypeEntry,
} from './finding-types.js';
export {
  NAVIGATOR_ATTACK_VERSION,
  NAVIGATOR_COLORS,
  NAVIGATOR_LAYER_VERSION,
  NAVIGATOR_VERSION,
  type NavigatorLayer,
  type NavigatorMetadata,
  type NavigatorOptions,
  type NavigatorTechnique,
  navigatorLayer,
} from './navigator.js';
export { reachableTypes } from './reach.js';
export { suggestTypePatterns, unknownFindingType } from './unknown-types.js';
