import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Finding, loadPlaybooks, type Plan } from '@riposte/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type FakeAws,
  holdFindings,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import { EXIT } from '../../src/io.js';
import { main } from '../../src/main.js';
import { recordingIO } from '../helpers/io.js';
import { offlineScratch } from '../helpers/offline.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SCENARIO_DIR = 'examples/scenario/findings';
const CREDENTIAL_EXFILTRATION = `${SCENARIO_DIR}/01-instance-credential-exfiltration.json`;
// What `validate` must count for the shipped rules: every playbook in rules/, however many ship.
const shippedPlaybooks = async () => (await loadPlaybooks([join(ROOT, 'rules')])).length;

const run = async (argv: string[], env: Record<string, string | undefined> = {}) => {
  const { io, out, err } = recordingIO(ROOT, env);
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
};

const scratch = offlineScratch('riposte-cli-');

describe('riposte (main)', () => {
  it('prints usage and exits 2 without a command, 0 with --help', async () => {
    const bare = await run([]);
    const help = await run(['--help']);

    expect(bare.code).toBe(EXIT.usage);
    expect(help.code).toBe(EXIT.ok);
    for (const command of ['validate', 'test', 'normalize', 'match', 'plan', 'coverage', 'template']) {
      expect(help.out).toContain(`riposte ${command}`);
    }
  });

  it('exits 2 naming the commands for an unknown command', async () => {
    const { code, err } = await run(['remediate']);

    expect(code).toBe(EXIT.usage);
    expect(err).toContain(
      'unknown command "remediate"; commands: init, validate, test, normalize, match, plan, coverage, build, template',
    );
  });

  it('exits 2 with the command help for a missing or unknown option', async () => {
    const missing = await run(['plan']);
    const unknown = await run(['plan', '--finding', CREDENTIAL_EXFILTRATION, '--force']);

    expect(missing.code).toBe(EXIT.usage);
    expect(missing.err).toContain('plan needs --finding <file|dir>');
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.err).toMatch(/Unknown option '--force'/);
  });
});

describe('riposte validate', () => {
  it('accepts the shipped playbooks', async () => {
    const { code, out } = await run(['validate', 'rules']);

    expect(code).toBe(EXIT.ok);
    expect(out).toBe(`valid: ${await shippedPlaybooks()} playbook(s)`);
  });

  it('exits 1 with every problem at its line and column', async () => {
    const file = join(scratch(), 's3.yaml');
    await writeFile(
      file,
      [
        'name: s3-lockdown',
        'match:',
        '  types: ["Exfiltration:S3/*"]',
        '  severity:',
        '    min: high',
        'actions:',
        '  - action: detach-every-instance-profile',
        'limits:',
        '  maxTarget: 3',
        '',
      ].join('\n'),
    );

    const { code, err } = await run(['validate', file]);

    expect(code).toBe(EXIT.failed);
    expect(err.split('\n')).toEqual([
      'invalid: 3 problem(s)',
      `${file}:5:10 /match/severity/min must be number`,
      expect.stringMatching(
        new RegExp(
          `^${file}:7:13 /actions/0/action unknown action "detach-every-instance-profile"; known actions: `,
        ),
      ),
      `${file}:9:3 /limits has unknown key "maxTarget"`,
    ]);
  });

  it('exits 1 for a path that does not exist', async () => {
    const missing = await run(['validate', join(scratch(), 'nowhere')]);

    expect(missing.code).toBe(EXIT.failed);
    expect(missing.err).toContain('no such file or directory');
  });

  it("validates the project's playbooks without a path: this checkout's riposte.config.mjs", async () => {
    const { code, out } = await run(['validate']);

    expect(code).toBe(EXIT.ok);
    expect(out).toBe(`valid: ${await shippedPlaybooks()} playbook(s)`);
  });
});

describe('riposte normalize', () => {
  it('prints the normalized finding as JSON', async () => {
    const { code, out } = await run(['normalize', CREDENTIAL_EXFILTRATION, '--json']);

    const finding = JSON.parse(out) as Finding;
    expect(code).toBe(EXIT.ok);
    expect(finding.type.name).toBe('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS');
    expect(finding.resources.map((resource) => resource.kind)).toEqual(['access-key', 'instance']);
    expect(finding.techniques.map((technique) => technique.id)).toContain('T1078.004');
  });

  it('prints an array for a directory of findings', async () => {
    const { code, out } = await run(['normalize', SCENARIO_DIR, '--json']);

    expect(code).toBe(EXIT.ok);
    expect((JSON.parse(out) as Finding[]).map((finding) => finding.type.threatPurpose)).toEqual([
      'UnauthorizedAccess',
      'Exfiltration',
      'Stealth',
      'Policy',
    ]);
  });

  it('exits 1 with FINDING_INVALID for a file that is not JSON or not a finding', async () => {
    const truncated = join(scratch(), 'truncated.json');
    const notFinding = join(scratch(), 'not-a-finding.json');
    await writeFile(truncated, '{"detail-type": "GuardDuty Finding", "detail": {');
    await writeFile(notFinding, JSON.stringify({ 'detail-type': 'GuardDuty Finding', detail: { id: 'x' } }));

    const broken = await run(['normalize', truncated]);
    const wrong = await run(['normalize', notFinding]);

    expect(broken.code).toBe(EXIT.failed);
    expect(broken.err).toContain('FINDING_INVALID');
    expect(broken.err).toContain('is not valid JSON');
    expect(wrong.code).toBe(EXIT.failed);
    expect(wrong.err).toMatch(/FINDING_INVALID: .*\/detail/);
  });
});

describe('riposte match', () => {
  it('names the matching playbook and, with --explain, why the others do not match', async () => {
    const { code, out } = await run(['match', '--finding', CREDENTIAL_EXFILTRATION, '--explain']);

    expect(code).toBe(EXIT.ok);
    expect(out).toContain('matches ec2-instance-credential-exfiltration');
    expect(out).toMatch(/no match {2}s3-data-exfiltration: types: /);
  });

  it('prints stable JSON: the matches with their criteria', async () => {
    const { code, out } = await run(['match', '--finding', CREDENTIAL_EXFILTRATION, '--json']);

    const result = JSON.parse(out) as {
      findingType: string;
      matches: { playbook: string; criteria: unknown[] }[];
    };
    expect(code).toBe(EXIT.ok);
    expect(result.matches.map((match) => match.playbook)).toEqual(['ec2-instance-credential-exfiltration']);
    expect(result.matches[0]?.criteria).toEqual([expect.objectContaining({ criterion: 'types' })]);
  });
});

describe('riposte plan', () => {
  it('plans offline, showing the lookups it could not make', async () => {
    const { code, out } = await run(['plan', '--finding', CREDENTIAL_EXFILTRATION]);

    expect(code).toBe(EXIT.ok);
    expect(out).toContain(
      'unverified: no credentials to ask GuardDuty with; planned from the finding as given',
    );
    expect(out).toContain('playbook ec2-instance-credential-exfiltration (dry-run)');
    expect(out).toContain('would look up DescribeIamInstanceProfileAssociations i-0a1b2c3d4e5f67890');
    expect(out).toContain(
      'would call EC2 DisassociateIamInstanceProfile {"AssociationId":"<AssociationId from DescribeIamInstanceProfileAssociations>"}',
    );
  });

  describe('with credentials for a local AWS-like endpoint', () => {
    let fake: FakeAws;
    beforeEach(async () => {
      fake = await startFakeAws({ seed: scenarioSeed() });
      // With AWS_PROFILE set, the SDK's default chain would skip the environment's credentials.
      vi.stubEnv('AWS_PROFILE', undefined);
      for (const [name, value] of Object.entries(fake.env())) vi.stubEnv(name, value);
    });
    afterEach(() => fake.close());

    it('refuses, as the deployed function would, a finding GuardDuty does not hold', async () => {
      const { code, out } = await run(['plan', '--finding', CREDENTIAL_EXFILTRATION]);

      expect(code).toBe(EXIT.failed);
      expect(out).toContain(
        'FINDING_UNVERIFIED: GuardDuty holds no finding 7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01',
      );
      expect(out).not.toContain('playbook ec2-instance-credential-exfiltration');
      expect(fake.mutatingCalls()).toEqual([]);
    });

    it('verifies the finding, makes the read-only lookups, fills in what they found, and mutates nothing', async () => {
      holdFindings(fake.state, [JSON.parse(readFileSync(CREDENTIAL_EXFILTRATION, 'utf8'))]);
      const { code, out } = await run([
        'plan',
        '--finding',
        CREDENTIAL_EXFILTRATION,
        '--json',
        '--mode',
        'enforce',
      ]);

      const plan = JSON.parse(out) as Plan & { file: string; verification: { status: string } };
      const detach = plan.steps.find((step) => step.action === 'detach-instance-profile');
      expect(code).toBe(EXIT.ok);
      expect(plan.verification.status).toBe('verified');
      expect(plan.file).toMatch(/01-instance-credential-exfiltration\.json$/);
      expect(plan.mode).toBe('enforce');
      expect(detach?.plan.lookups.map((lookup) => lookup.status)).toEqual(['done']);
      expect(detach?.plan.calls).toEqual([
        {
          service: 'EC2',
          operation: 'DisassociateIamInstanceProfile',
          input: { AssociationId: SCENARIO.associationId },
          mutating: true,
        },
      ]);
      expect(fake.calls.length).toBeGreaterThan(0);
      expect(fake.mutatingCalls()).toEqual([]);
    });
  });
});
