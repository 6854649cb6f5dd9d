/**
 * Example 05: the deployment template from code, as `riposte template` prints it. Useful when the
 * template is assembled by your own tooling (CDK, a pipeline step) rather than the CLI.
 * Run from the repository root: `npx tsx examples/05-deploy/generate-template.ts > template.json`.
 */
import { fileURLToPath } from 'node:url';
import { createRegistry } from '@riposte/actions';
import { loadPlaybooks } from '@riposte/core';
import { buildTemplate, type CloudFormationTemplate } from '@riposte/lambda-adapter/deploy';

const RULES = fileURLToPath(new URL('../../rules', import.meta.url));

export interface GenerateOptions {
  /** Playbook files or directories; default: the shipped `rules/`, which the bundle embeds. */
  playbooks?: string[];
  /** The role assumed in member accounts (the `MemberRoleName` parameter's default). */
  memberRoleName?: string;
  /** Where `riposte build`'s `function.zip` is, seen from the directory the template is packaged in. */
  codeUri?: string;
}

export const generateTemplate = async (options: GenerateOptions = {}): Promise<CloudFormationTemplate> => {
  const registry = createRegistry();
  // The role's permissions and the rule's pattern come from exactly these playbooks.
  const playbooks = await loadPlaybooks(options.playbooks ?? [RULES], { registry });
  return buildTemplate({
    playbooks,
    registry,
    ...(options.memberRoleName === undefined ? {} : { memberRoleName: options.memberRoleName }),
    ...(options.codeUri === undefined ? {} : { codeUri: options.codeUri }),
  });
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await generateTemplate({ memberRoleName: 'riposte-member' }), null, 2));
}
