export { loadPlaybooks } from './load.js';
export { type LoadOptions, parsePlaybooks } from './parse.js';
export { playbookSchema } from './schema.js';
