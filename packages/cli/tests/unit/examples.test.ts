import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AwsCredentialsProvider, createAwsServices, createRegistry } from '@riposte/actions';
import { EngineConfigurationError, formatPlan } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { matchAFinding } from '../../../../examples/01-match-a-finding/match-a-finding.js';
import { dryRunPlan } from '../../../../examples/02-dry-run-plan/dry-run-plan.js';
import { archiveFinding } from '../../../../examples/03-custom-action/archive-finding.js';
import { customActionPlan } from '../../../../examples/03-custom-action/custom-action.js';
import { runTest } from '../../src/commands/test.js';
import { type CliIO, EXIT } from '../../src/io.js';
import { main } from '../../src/main.js';
import { recordingIO } from '../helpers/io.js';
import { offlineScratch } from '../helpers/offline.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

// Examples take their AWS services as an option; here they can never reach AWS.
const noCredentials: AwsCredentialsProvider = async () => {
  throw Object.assign(new Error('examples run offline'), { name: 'CredentialsProviderError' });
};
const offline = () => createAwsServices({ env: {}, credentialsFor: () => noCredentials });

// The CLI commands a README shows run here with no credentials and no AWS configuration, as documented.
offlineScratch('riposte-examples-');

/** The fenced blocks of a Markdown file, each as its text between the fences. */
const fencedBlocks = (markdown: string): string[] =>
  [...markdown.matchAll(/^```[a-z]*\n([\s\S]*?)\n```$/gm)].map((match) => match[1] ?? '');

/** What `riposte <argv>` prints from the repository's root, with the given environment only. */
const riposte = async (argv: string[], env: Record<string, string> = {}) => {
  const { io, out } = recordingIO(ROOT, env);
  const code = await main(argv, io);
  return { code, out: out.join('\n') };
};

describe('examples/01-match-a-finding', () => {
  it('matches the leaked-credentials playbook and explains why the other does not match', async () => {
    const { finding, matches, explanations } = await matchAFinding();

    expect(finding.type.name).toBe('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS');
    expect(matches.map((match) => match.playbook.name)).toEqual(['leaked-instance-credentials']);
    expect(matches[0]?.matched.map((criterion) => criterion.criterion)).toEqual(
      expect.arrayContaining(['types', 'severity', 'resources']),
    );
    expect(explanations.find((explanation) => explanation.playbook === 's3-exfiltration')).toMatchObject({
      matched: false,
      failed: { criterion: 'types' },
    });
  });
});

describe('examples/02-dry-run-plan', () => {
  it('plans the four scenario findings with the shipped rules, acting only on what each finding names', async () => {
    const plans = await dryRunPlan({ services: offline() });

    expect(
      plans.map((plan) => [plan.finding.type.name, plan.matches.map((match) => match.playbook)]),
    ).toEqual([
      [
        'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
        ['ec2-instance-credential-exfiltration'],
      ],
      ['Exfiltration:S3/MaliciousIPCaller', ['s3-data-exfiltration']],
      ['Stealth:IAMUser/CloudTrailLoggingDisabled', ['cloudtrail-logging-disabled']],
      ['Policy:IAMUser/RootCredentialUsage', ['root-credential-usage']],
    ]);
    expect(plans.every((plan) => plan.mode === 'dry-run')).toBe(true);
    const targets = plans.flatMap((plan) =>
      plan.steps.flatMap((step) => (step.target ? [step.target.id] : [])),
    );
    expect(new Set(targets)).toEqual(
      new Set([
        'i-0a1b2c3d4e5f67890',
        'app-server-s3-full',
        'acme-customer-exports',
        'ASIAEXAMPLEKEY123456',
        'arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit-trail',
        ...plans.map((plan) => plan.finding.id),
      ]),
    );
    const lookups = plans.flatMap((plan) => plan.steps.flatMap((step) => step.plan.lookups));
    expect(lookups.length).toBeGreaterThan(0);
    expect(lookups.every((lookup) => lookup.status === 'unavailable')).toBe(true);
  });
});

describe('examples/02-dry-run-plan/README.md', () => {
  const readme = () => readFile(join(ROOT, 'examples', '02-dry-run-plan', 'README.md'), 'utf8');
  /** What the README shows: the first capture of `pattern`, so the test runs what the page says. */
  const shownIn = (text: string, pattern: RegExp): string => {
    const found = pattern.exec(text)?.[1];
    expect(found, `the README shows ${pattern}`).toBeDefined();
    return found ?? '';
  };
  const blockStarting = (text: string, firstLine: string): string => {
    const block = fencedBlocks(text).find((each) => each.startsWith(firstLine));
    expect(block, `the README shows a block starting "${firstLine}"`).toBeDefined();
    return block ?? '';
  };
  /** The command the README says its output comes from, as arguments of `riposte`. */
  const commandOf = (text: string): string[] => shownIn(text, /`pnpm riposte (plan [^`]+)`/).split(' ');

  it('shows exactly what the plan command it names prints without a notification topic: notify refused, and why', async () => {
    const text = await readme();
    const shown = blockStarting(text, 'examples/scenario/findings/01-');

    const { code, out } = await riposte(commandOf(text));

    expect(code).toBe(EXIT.ok);
    expect(out).toBe(shown);
    expect(shown).toContain('5. [refused] notify');
  });

  it("shows the same plan dry-run-plan.ts prints for the first finding, without the CLI's own lines", async () => {
    const shown = blockStarting(await readme(), 'examples/scenario/findings/01-').split('\n');

    const [first] = await dryRunPlan({ services: offline() });

    // The CLI adds the file and verification lines above the plan, and a blank line and the summary below.
    expect(formatPlan(first!).split('\n')).toEqual(shown.slice(2, shown.indexOf('')));
  });

  it('shows the notify step and the summary the same command prints with the RIPOSTE_SNS_TOPIC_ARN it names', async () => {
    const text = await readme();
    const topic = shownIn(text, /`RIPOSTE_SNS_TOPIC_ARN=(arn:aws:sns:[^`]+)`/);
    const summary = shownIn(text, /the summary reads `([^`]+)`/);
    const shown = blockStarting(text, '    5. [planned] notify');

    const { code, out } = await riposte(commandOf(text), { RIPOSTE_SNS_TOPIC_ARN: topic });

    expect(code).toBe(EXIT.ok);
    expect(out).toContain(shown);
    expect(out.split('\n').at(-1)).toBe(summary);
  });
});

describe('examples/03-custom-action', () => {
  it('plans the custom action from a playbook, with the exact S3 call it would make', async () => {
    const plan = await customActionPlan({ services: offline() });

    expect(plan.matches.map((match) => match.playbook)).toEqual(['archive-high-findings']);
    const [archive] = plan.steps;
    expect(archive).toMatchObject({
      action: 'archive-finding',
      phase: 'preserve',
      plan: { status: 'planned' },
    });
    expect(archive?.plan.calls).toEqual([
      {
        service: 'S3',
        operation: 'PutObject',
        input: expect.objectContaining({
          Bucket: 'acme-security-evidence',
          Key: 'guardduty/111122223333/a2c4e6f8b0d24f6a8c0e2b4d6f8a0c02.json',
          IfNoneMatch: '*',
        }),
        mutating: true,
      },
    ]);
  });

  it('is refused by the registry when it breaks the contract', () => {
    const registry = createRegistry();

    expect(() => registry.register({ ...archiveFinding, permissions: [] })).toThrow(EngineConfigurationError);
    expect(() => registry.register({ ...archiveFinding, name: 'archiveFinding' })).toThrow(
      EngineConfigurationError,
    );
  });
});

describe('examples/04-custom-playbook-with-cases', () => {
  it('passes its cases with riposte test', async () => {
    const out: string[] = [];
    const io: CliIO = {
      stdout: (text) => out.push(text),
      stderr: (text) => out.push(text),
      style: (_style, text) => text,
      cwd: ROOT,
      env: {},
    };

    const code = await runTest([join('examples', '04-custom-playbook-with-cases')], io);

    expect(code).toBe(EXIT.ok);
    expect(out.join('\n').split('\n').at(-1)).toBe('3 passed, 0 failed');
  });
});
