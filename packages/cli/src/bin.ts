#!/usr/bin/env node
import { processIO } from './io.js';
import { main } from './main.js';

// Planning must never hang probing the EC2 metadata service for credentials it will not find; on an
// instance that should use its role, set AWS_EC2_METADATA_DISABLED=false.
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

// The AWS SDK warns on every run under Node 20 that its 2027 releases need Node 22. The README says
// so once; repeating it above every plan buries the output people came for.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(warning).startsWith('NodeVersionSupportWarning')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

process.exitCode = await main(process.argv.slice(2), processIO());
