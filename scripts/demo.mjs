// `npm run demo`: install, build, then plan the canonical scenario through the shipped playbooks in
// dry-run. The install and the build print nothing unless they fail (then all they printed), so the
// plan is what a new user reads first. Needs only Node.js and npm: pnpm comes pinned through npx.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PNPM = ['--yes', 'pnpm@12.4.2'];
/** The topic the scenario's notify steps name, so the plan shows them as they would run. */
const TOPIC_ARN = 'arn:aws:sns:us-east-1:111122223333:security-alerts';

const quietly = (what, args) => {
  process.stderr.write(`${what}...\n`);
  const step = spawnSync('npx', args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (step.status !== 0) {
    process.stderr.write(`${step.stdout}${step.stderr}${step.error ? `${step.error.message}\n` : ''}`);
    process.stderr.write(`npm run demo: ${what} failed (exit ${step.status ?? 'none'})\n`);
    process.exit(1);
  }
};

quietly('installing', [...PNPM, 'install', '--frozen-lockfile']);
quietly('building', [...PNPM, 'run', 'build']);
const plan = spawnSync(
  process.execPath,
  ['packages/cli/dist/bin.js', 'plan', '--finding', 'examples/scenario/findings'],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, RIPOSTE_SNS_TOPIC_ARN: TOPIC_ARN } },
);
process.exit(plan.status ?? 1);
