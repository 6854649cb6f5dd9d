export { type CliIO, EXIT, processIO } from './io.js';
export { main, usage } from './main.js';
