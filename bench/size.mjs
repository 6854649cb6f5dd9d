// Benchmark 4: what gets deployed. The size of dist/handler.mjs (raw and gzipped, as Lambda's zip
// holds it) and of the template `riposte template` prints.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { log, path } from './lib/common.mjs';

export const BUNDLE_BUDGET_BYTES = 1.5 * 1024 * 1024;

export const runSize = () => {
  const bundle = readFileSync(path('dist/riposte/handler.mjs'));
  const template = spawnSync(process.execPath, [path('packages/cli/dist/bin.js'), 'template'], {
    encoding: 'utf8',
    cwd: path(''),
  });
  if (template.status !== 0) throw new Error(`riposte template failed: ${template.stderr}`);
  const result = {
    bundleBytes: bundle.length,
    bundleGzipBytes: gzipSync(bundle).length,
    templateBytes: Buffer.byteLength(template.stdout),
    templateLines: template.stdout.trimEnd().split('\n').length,
  };
  log(
    `size: handler.mjs ${(result.bundleBytes / 1024 / 1024).toFixed(2)} MB (${(result.bundleGzipBytes / 1024).toFixed(0)} KB gzipped), template ${result.templateBytes} bytes`,
  );
  return result;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(runSize(), null, 2));
}
