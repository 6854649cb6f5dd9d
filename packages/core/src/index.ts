export * from './action.js';
export * from './attack/tactics.js';
export * from './errors.js';
export * from './finding.js';
export * from './match/pattern.js';
export * from './playbook.js';
