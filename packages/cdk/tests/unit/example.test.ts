import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../../../examples/06-cdk/app.js';
import type { RiposteManifest } from '../../src/manifest.js';
import { type CfnTemplate, removeTemporaryDirectories, temporaryDirectory } from '../helpers/project.js';

afterAll(removeTemporaryDirectories);

describe('examples/06-cdk', () => {
  it('synthesizes the Riposte stack for its configuration, with Mode fixed from the context', async () => {
    const outDir = await temporaryDirectory('riposte-example-06');
    const cdkOut = await temporaryDirectory('riposte-example-06-cdk-out');

    const artifact = synthesize({ outDir, cdkOut, mode: 'enforce' });

    const template = artifact.template as CfnTemplate;
    expect(artifact.stackName).toBe('Riposte');
    expect(template.Parameters).not.toHaveProperty('Mode');
    expect(template.Parameters.NotificationTopicArn?.Default).toBe(
      'arn:aws:sns:us-east-1:111122223333:security-alerts',
    );
    const fn = template.Resources.RiposteFunction?.Properties;
    expect(fn?.Code).toMatchObject({ S3Key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/) });
    expect(fn?.Environment).toMatchObject({ Variables: { RIPOSTE_MODE: 'enforce' } });
    // A single-account stack drops the member role's AssumeRole: no managed policy may be left empty.
    const statements = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::IAM::ManagedPolicy')
      .map((resource) => (resource.Properties!.PolicyDocument as { Statement: object[] }).Statement);
    expect(statements.length).toBeGreaterThan(1);
    for (const list of statements) expect(list.some((statement) => !('Fn::If' in statement))).toBe(true);
    const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8')) as RiposteManifest;
    expect(manifest.playbooks.map((playbook) => playbook.name).sort()).toEqual([
      'ec2-compromised-instance',
      'root-credential-usage',
    ]);
  }, 60_000);
});
