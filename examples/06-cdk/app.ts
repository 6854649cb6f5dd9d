/**
 * Example 06: Riposte in an AWS CDK app. RiposteResponder runs `riposte build` for this folder's
 * riposte.config.mjs and includes the stack `riposte template` prints for it, the built function.zip
 * as an asset. From the repository root, `npx tsx examples/06-cdk/app.ts` synthesizes into a
 * temporary directory and says what it made; from this folder, `npx aws-cdk synth` (cdk.json).
 */
import { fileURLToPath } from 'node:url';
import { RiposteResponder } from '@riposte/cdk';
import { App, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface RiposteStackProps extends StackProps {
  /** Fixes `Mode`; without it, `Mode` stays a parameter whose default is the configuration's mode. */
  mode?: 'dry-run' | 'enforce';
  /** Where the function is built; default: `dist/riposte` in this folder. */
  outDir?: string;
}

export class RiposteStack extends Stack {
  readonly responder: RiposteResponder;

  constructor(scope: Construct, id: string, { mode, outDir, ...props }: RiposteStackProps = {}) {
    super(scope, id, props);
    this.responder = new RiposteResponder(this, 'Responder', {
      projectDir: HERE,
      config: 'riposte.config.mjs',
      ...(outDir === undefined ? {} : { outDir }),
      ...(mode === undefined ? {} : { parameters: { Mode: mode } }),
    });
    // CDK's CloudFormation validation cannot see that these are guarded by conditions (README).
    Validations.of(this).acknowledge(
      {
        id: 'CloudFormation-Validate::W1001',
        reason: 'AlarmTopicArn refers to AlarmTopic only when LacksNotificationTopic holds',
      },
      {
        id: 'CloudFormation-Validate::W1030',
        reason:
          'NotificationTopicArn and KmsKeyArn are used only when HasNotificationTopic and HasKmsKey hold',
      },
    );
  }
}

export interface SynthesizeOptions extends Pick<RiposteStackProps, 'mode' | 'outDir'> {
  /** The cloud assembly directory; default: the CDK CLI's, else a temporary one. */
  cdkOut?: string;
}

/** The app `cdk synth` runs: one stack, `Riposte`. `-c mode=enforce` fixes `Mode`. */
export const synthesize = (options: SynthesizeOptions = {}): CloudFormationStackArtifact => {
  const app = new App(options.cdkOut === undefined ? {} : { outdir: options.cdkOut });
  const mode = options.mode ?? (app.node.tryGetContext('mode') as RiposteStackProps['mode']);
  const stack = new RiposteStack(app, 'Riposte', {
    ...(mode === undefined ? {} : { mode }),
    ...(options.outDir === undefined ? {} : { outDir: options.outDir }),
  });
  return app.synth().getStackByName(stack.stackName);
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const artifact = synthesize();
  const template = artifact.template as { Resources: Record<string, { Type: string }> };
  const types = Object.values(template.Resources).map((resource) => resource.Type);
  console.log(`synthesized ${artifact.stackName} into ${artifact.assembly.directory}`);
  console.log(`  ${types.length} resources: ${[...new Set(types)].sort().join(', ')}`);
}
