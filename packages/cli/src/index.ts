export type { Manifest } from './build/manifest.js';
export { BuildError } from './commands/build.js';
export {
  defineConfig,
  type FunctionSettings,
  type PlaybookSource,
  type RiposteConfig,
} from './config/define.js';
export {
  CONFIG_FILE,
  findConfigFile,
  loadProject,
  type Project,
  ProjectConfigError,
} from './config/load.js';
export { loadProjectPlaybooks, type ProjectPlaybook, resolveSources } from './config/playbooks.js';
export type { CliErrorCode } from './errors.js';
export { type CliIO, EXIT, processIO } from './io.js';
export { main, usage } from './main.js';
