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
import { EXIT_CODES_HELP, main } from '../../src/main.js';
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

  it('prints the version of @riposte/cli with --version or -v, as --help says', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as {
      version: string;
    };

    const long = await run(['--version']);
    const short = await run(['-v']);
    const extra = await run(['--version', 'plan']);
    const help = await run(['--help']);

    expect(long).toEqual({ code: EXIT.ok, out: version, err: '' });
    expect(short).toEqual(long);
    expect(extra).toEqual({ code: EXIT.usage, out: '', err: 'riposte: --version takes no arguments' });
    expect(help.out).toContain('riposte --version (or -v)\n  Prints the version of this CLI (@riposte/cli).');
  });

  it('states the exit codes once, for every command, in --help', async () => {
    const help = await run(['--help']);

    expect(help.out.endsWith(EXIT_CODES_HELP)).toBe(true);
    expect(help.out.split('Exit codes').length).toBe(2);
    expect(EXIT_CODES_HELP).toMatch(/^ {2}1 {2}invalid content/m);
    expect(EXIT_CODES_HELP).toMatch(/^ {2}2 {2}the command cannot run as given/m);
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
    const { code, out, err } = await run(['validate', 'rules']);

    expect(code).toBe(EXIT.ok);
    expect(err).toBe('');
    expect(out).toMatch(new RegExp(`\\b${await shippedPlaybooks()} playbooks: 0 errors\\b`));
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
      // What follows each problem (a suggestion, the names known) is the playbook loader's to test.
      expect.stringMatching(
        new RegExp(`^${file}:7:13 /actions/0/action unknown action "detach-every-instance-profile"`),
      ),
      expect.stringMatching(new RegExp(`^${file}:9:3 /limits has unknown key "maxTarget"`)),
    ]);
  });

  it('exits 2 for a path that does not exist, naming it: the command line is wrong, not a playbook', async () => {
    const nowhere = join(scratch(), 'nowhere');

    const missing = await run(['validate', nowhere]);

    expect(missing.code).toBe(EXIT.usage);
    expect(missing.err).toBe(`riposte validate: PATH_INACCESSIBLE: ${nowhere}: no such file or directory`);
  });

  it("validates the project's playbooks without a path: this checkout's riposte.config.mjs", async () => {
    const { code, out, err } = await run(['validate']);

    expect(code).toBe(EXIT.ok);
    expect(err).toBe('');
    expect(out).toMatch(new RegExp(`\\b${await shippedPlaybooks()} playbooks: 0 errors\\b`));
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

  it('ends a directory of findings with a summary line, as plan does; --json has none', async () => {
    const human = await run(['match', '--finding', SCENARIO_DIR]);
    const json = await run(['match', '--finding', SCENARIO_DIR, '--json']);

    const results = JSON.parse(json.out) as { matches: unknown[] }[];
    const matches = results.reduce((sum, result) => sum + result.matches.length, 0);
    expect(results).toHaveLength(4);
    expect(matches).toBeGreaterThan(0);
    expect(human.code).toBe(EXIT.ok);
    expect(human.out.split('\n').slice(-2)).toEqual(['', `4 findings, ${matches} playbook matches`]);
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

  it('ends with a summary line: findings, playbook matches and steps by status', async () => {
    const { code, out } = await run(['plan', '--finding', CREDENTIAL_EXFILTRATION]);

    expect(code).toBe(EXIT.ok);
    expect(out.split('\n')).toContain('1 finding, 1 playbook match, 6 steps: 5 planned, 1 refused');
  });

  it('--json prints the plan with the finding file it came from, named from the working directory, and no summary', async () => {
    const { io, out } = recordingIO(join(ROOT, 'examples'), {});

    const code = await main(['plan', '--finding', join(ROOT, CREDENTIAL_EXFILTRATION), '--json'], io);

    const plan = JSON.parse(out.join('\n')) as Plan & { file: string; verification: { status: string } };
    expect(code).toBe(EXIT.ok);
    expect(plan.file).toBe('scenario/findings/01-instance-credential-exfiltration.json');
    expect(plan.verification.status).toBe('unverified');
    expect(plan.matches.map((match) => match.playbook)).toEqual(['ec2-instance-credential-exfiltration']);
  });

  it("summarises a directory of findings as its plans count, and --json names each plan's file", async () => {
    const human = await run(['plan', '--finding', SCENARIO_DIR]);
    const json = await run(['plan', '--finding', SCENARIO_DIR, '--json']);

    const plans = JSON.parse(json.out) as (Plan & { file: string })[];
    const statuses = plans.flatMap((plan) => plan.steps.map((step) => step.plan.status));
    const count = (status: string) => statuses.filter((each) => each === status).length;
    const matches = plans.reduce((sum, plan) => sum + plan.matches.length, 0);
    expect(plans.map((plan) => plan.file)).toEqual([
      `${SCENARIO_DIR}/01-instance-credential-exfiltration.json`,
      `${SCENARIO_DIR}/02-s3-exfiltration.json`,
      `${SCENARIO_DIR}/03-cloudtrail-logging-disabled.json`,
      `${SCENARIO_DIR}/04-root-credential-usage.json`,
    ]);
    expect(count('planned') + count('refused')).toBe(statuses.length);
    expect(human.code).toBe(EXIT.ok);
    expect(human.out.split('\n')).toContain(
      `4 findings, ${matches} playbook matches, ${statuses.length} steps: ${count('planned')} planned, ${count('refused')} refused`,
    );
  });

  describe('notify', () => {
    const TOPIC = 'arn:aws:sns:us-east-1:111122223333:security-alerts';
    const REFUSED = [
      '    5. [refused] notify finding 7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01',
      "         no notification: no destination is set. Set an SNS topic with params.topicArn on this step or RIPOSTE_SNS_TOPIC_ARN (the function stack's NotificationTopicArn parameter), or a webhook with params.webhookUrl or RIPOSTE_WEBHOOK_URL",
    ].join('\n');

    it('is refused without a destination, as the deployed function would record it, saying how to set one', async () => {
      const { code, out } = await run(['plan', '--finding', CREDENTIAL_EXFILTRATION]);

      expect(code).toBe(EXIT.ok);
      expect(out).toContain(REFUSED);
      expect(out.split('\n').at(-1)).toBe(
        "1 notify step would send nothing: no SNS topic or webhook is set. Set topicArn in riposte.config.mjs (plan uses it; riposte template makes it the stack's NotificationTopicArn), or RIPOSTE_SNS_TOPIC_ARN, or params.topicArn in the playbook.",
      );
    });

    it("is planned to RIPOSTE_SNS_TOPIC_ARN, else to the configuration's topicArn", async () => {
      const config = join(scratch(), 'riposte.config.mjs');
      await writeFile(config, `export default { topicArn: '${TOPIC}' };\n`);

      const fromEnv = await run(['plan', '--finding', CREDENTIAL_EXFILTRATION], {
        RIPOSTE_SNS_TOPIC_ARN: TOPIC,
      });
      const fromConfig = await run(['plan', '--finding', CREDENTIAL_EXFILTRATION, '--config', config]);

      for (const { code, out } of [fromEnv, fromConfig]) {
        expect(code).toBe(EXIT.ok);
        expect(out).toContain('    5. [planned] notify finding 7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01');
        expect(out).toContain(`would call SNS Publish {"TopicArn":"${TOPIC}"`);
        expect(out).not.toContain('would send nothing');
        expect(out.split('\n').at(-1)).toBe('1 finding, 1 playbook match, 6 steps: 6 planned');
      }
    });
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
      expect(out.split('\n').at(-1)).toBe(
        '1 finding (1 refused: GuardDuty does not vouch for it), 0 playbook matches, 0 steps',
      );
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
