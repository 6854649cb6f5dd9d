export type { UnknownFindingType } from './checks.js';
export { loadPlaybooks } from './load.js';
export {
  type CheckedFile,
  compilePlaybooks,
  type LoadOptions,
  type PlaybookSource,
  parsePlaybooks,
} from './parse.js';
export { playbookSchema } from './schema.js';
