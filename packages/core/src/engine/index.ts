export { createEngine, type Engine, type EngineOptions, type PlanOptions } from './engine.js';
export { effectiveMode } from './planner.js';
export { outOfScopeReason, resourceIdentifiers } from './scope.js';
export type * from './types.js';
