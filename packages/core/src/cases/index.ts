export { CaseValidationError } from './errors.js';
export { formatCaseResult, formatCaseSummary } from './format.js';
export { casesSchema, loadCases, parseCases } from './load.js';
export { NO_TARGET, runCase, runCases, stepMatches } from './run.js';
export type {
  ActualStep,
  CaseCheck,
  CaseExpectation,
  CaseFailure,
  CaseFile,
  CaseResult,
  ExpectedStep,
  PlaybookCase,
  StepPlanStatus,
} from './types.js';
