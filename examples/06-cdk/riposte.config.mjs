// The Riposte project this example deploys. `riposte build`, `riposte template` and RiposteResponder
// all read it: two of the shipped playbooks, and the settings that become the stack's parameter
// defaults. Custom actions go in `actions` (see examples/03-custom-action); they need this file.
import { defineConfig } from '@riposte/cli';

export default defineConfig({
  playbooks: [{ from: '@riposte/rules', include: ['ec2-compromised-instance', 'root-credential-usage'] }],
  mode: 'dry-run',
  topicArn: 'arn:aws:sns:us-east-1:111122223333:security-alerts',
});
