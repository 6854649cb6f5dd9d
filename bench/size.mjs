// Benchmark 4: what gets deployed. The bundle `riposte build` wrote (its manifest says what
// initialisation loads: handler.mjs and the chunks it imports statically), function.zip, and the
// template `riposte template` prints.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { log, path } from './lib/common.mjs';

/** The CLI's own budget (`INIT_BUDGET_BYTES`): over it, `riposte build` warns. */
export const INIT_BUDGET_BYTES = 1024 * 1024;

export const runSize = () => {
  const manifest = JSON.parse(readFileSync(path('dist/riposte/manifest.json'), 'utf8'));
  const template = spawnSync(process.execPath, [path('packages/cli/dist/bin.js'), 'template'], {
    encoding: 'utf8',
    cwd: path(''),
  });
  if (template.status !== 0) throw new Error(`riposte template failed: ${template.stderr}`);
  const result = {
    initBytes: manifest.bundle.initBytes,
    bundleBytes: manifest.bundle.bytes,
    bundleFiles: manifest.bundle.files,
    handlerBytes: statSync(path('dist/riposte/handler.mjs')).size,
    zipBytes: manifest.zip.bytes,
    templateBytes: Buffer.byteLength(template.stdout),
    templateLines: template.stdout.trimEnd().split('\n').length,
  };
  log(
    `size: init loads ${(result.initBytes / 1024).toFixed(0)} KB of ${(result.bundleBytes / 1024).toFixed(0)} KB in ${result.bundleFiles} files, function.zip ${(result.zipBytes / 1024).toFixed(0)} KB, template ${result.templateBytes} bytes`,
  );
  return result;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(runSize(), null, 2));
}
