// The Node.js the deployed function runs on. The template names `nodejs22.x`; the machine that runs
// `pnpm bench` may have another Node, so the bench installs this one from npm (the `node` package
// ships the binary) into node_modules/.cache, once, and runs the cold start on both.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { log, path } from './common.mjs';

/** Pinned: a cold start is compared across runs, so the runtime must not move under it. */
export const NODE_22_VERSION = '22.23.3';

/** The path of a Node 22 binary, installed on first use; throws when npm cannot install it. */
export const node22 = () => {
  const prefix = path(`node_modules/.cache/riposte-bench/node-${NODE_22_VERSION}`);
  const binary = join(prefix, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(binary)) {
    log(`installing Node.js ${NODE_22_VERSION} from npm into ${prefix}`);
    const install = spawnSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `node@${NODE_22_VERSION}`,
      ],
      { encoding: 'utf8' },
    );
    if (install.status !== 0 || !existsSync(binary)) {
      throw new Error(`npm could not install node@${NODE_22_VERSION}: ${install.stderr || install.error}`);
    }
  }
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (version !== `v${NODE_22_VERSION}`) throw new Error(`${binary} is ${version}, not v${NODE_22_VERSION}`);
  return binary;
};
