export { createEngine, type Engine, type EngineOptions, type PlanOptions } from './engine.js';
export { awaitingApproval } from './executor.js';
export { effectiveMode } from './planner.js';
export { outOfScopeReason, resourceIdentifiers } from './scope.js';
export type * from './types.js';
export {
  executeUndo,
  planUndo,
  type UndoOptions,
  type UndoPlan,
  type UndoStep,
  type UndoSubject,
} from './undo.js';
