import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Stack, Validations } from 'aws-cdk-lib';
import { C2_PLAYBOOK, OPEN_CASE_ACTION } from '../../../../testing/fixtures/custom-action-project.js';

export { C2_PLAYBOOK };

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** The built CLI (`pnpm build`), which the construct runs too. */
export const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');

const made: string[] = [];

/** An empty directory under the system's temporary one, removed by removeTemporaryDirectories. */
export const temporaryDirectory = async (prefix: string): Promise<string> => {
  const directory = await mkdtemp(join(tmpdir(), `${prefix}-`));
  made.push(directory);
  return directory;
};

export const removeTemporaryDirectories = async (): Promise<void> => {
  await Promise.all(made.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
};

/** Names an action that does not exist, at line 5, column 13. */
export const BROKEN_PLAYBOOK = `name: broken
match:
  types: ["Backdoor:EC2/C&CActivity.B"]
actions:
  - action: open-cases
    params:
      table: incidents
`;

export const PROJECT_CONFIG = `import { openCase } from './actions/open-case.mjs';

export default {
  playbooks: ['./playbooks'],
  actions: [openCase],
  topicArn: 'arn:aws:sns:us-east-1:111122223333:security-alerts',
  accounts: ['111122223333', '444455556666'],
  limits: { maxTargetsPerHour: 20 },
};
`;

/** A project in an empty folder: its configuration, its playbooks, one custom action. */
export const scaffold = async (playbooks: Record<string, string> = { 'c2-open-case.yaml': C2_PLAYBOOK }) => {
  const root = await temporaryDirectory('riposte-cdk-project');
  await mkdir(join(root, 'playbooks'));
  await mkdir(join(root, 'actions'));
  await writeFile(join(root, 'actions', 'open-case.mjs'), OPEN_CASE_ACTION);
  for (const [name, text] of Object.entries(playbooks)) await writeFile(join(root, 'playbooks', name), text);
  await writeFile(join(root, 'riposte.config.mjs'), PROJECT_CONFIG);
  return root;
};

export interface CfnTemplate {
  Parameters: Record<string, { Type: string; Default?: unknown }>;
  Conditions: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }>;
  Outputs: Record<string, unknown>;
}

/** What `riposte template --format json` prints for a project and its build. */
export const cliTemplate = (cwd: string, ...args: string[]): CfnTemplate => {
  const result = spawnSync(process.execPath, [BIN, 'template', ...args, '--format', 'json'], {
    cwd,
    encoding: 'utf8',
    // As the construct runs it: RIPOSTE_PLAYBOOKS would make template read other playbooks than build.
    env: { ...process.env, RIPOSTE_PLAYBOOKS: '' },
  });
  if (result.status !== 0) throw new Error(`riposte template failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as CfnTemplate;
};

/**
 * CDK's built-in CloudFormation validation misreads three things of the template, each guarded by a
 * condition it does not evaluate (the README says why); acknowledged as a user would, so the tests
 * stay quiet and a new warning still shows.
 */
export const acknowledgeTemplateWarnings = (stack: Stack): void => {
  Validations.of(stack).acknowledge(
    {
      id: 'CloudFormation-Validate::W1001',
      reason: 'AlarmTopicArn refers to AlarmTopic only when LacksNotificationTopic holds',
    },
    {
      id: 'CloudFormation-Validate::W1030',
      reason: 'NotificationTopicArn and KmsKeyArn are used only when HasNotificationTopic and HasKmsKey hold',
    },
  );
};
