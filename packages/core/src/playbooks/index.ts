export { loadPlaybooks } from './load.js';
export { compilePlaybooks, type LoadOptions, type PlaybookSource, parsePlaybooks } from './parse.js';
export { playbookSchema } from './schema.js';
