// Riposte's configuration: `riposte validate`, `test`, `build` and `template` all read it. The settings
// are those of `RiposteConfig` in @riposte/cli; the commented ones show the others with example values.
import { defineConfig } from '@riposte/cli';
import { archiveFinding } from './actions/archive-finding.mjs';

export default defineConfig({
  // Where playbooks come from: installed packages, directories, files or globs. A source can be narrowed:
  // { from: '@riposte/rules', exclude: ['root-credential-usage'] } (or include: [...]).
  playbooks: ['@riposte/rules', './playbooks'],

  // Custom actions, registered beside the built-ins; playbooks use them by name.
  actions: [archiveFinding],

  // 'dry-run' plans and reports without changing anything; 'enforce' remediates. Start in dry-run and
  // switch once the reports show what you expect. A playbook can pin itself to dry-run either way.
  mode: 'dry-run',

  // The SNS topic notify publishes to when a playbook names none.
  // topicArn: 'arn:aws:sns:us-east-1:111122223333:security-alerts',

  // Accounts the function may act in besides its own, or every account of an organization; for a
  // member account's finding it assumes memberRole there (`riposte template --member` creates it).
  // accounts: ['444455556666'],
  // organizationId: 'o-a1b2c3d4e5',
  // memberRole: 'riposte-member',

  // IAM role and user ARN patterns no action may change.
  // protectedPrincipals: ['arn:aws:iam::*:role/breakglass-*'],

  // Circuit breaker: resources changed per account over a rolling hour before further steps are held.
  // limits: { maxTargetsPerHour: 20 },

  // Where `riposte build` writes the function and `riposte template` finds it. Default dist/riposte.
  // outDir: 'dist/riposte',
});
