import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type AwsServices, createAwsServices, createRegistry } from '@riposte/actions';
import {
  createEngine,
  type EngineMode,
  executeUndo,
  loadPlaybooks,
  type Playbook,
  parsePlaybooks,
  planUndo,
  type Report,
} from '@riposte/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_CREDENTIALS,
  type FakeAccountSeed,
  type FakeAws,
  holdFindings,
  SCENARIO,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';

/**
 * Feedback to the finding, end to end: the scenario's findings through playbooks that end with
 * `update-securityhub-finding` (the shipped ones) and `archive-guardduty-finding`, with the real AWS
 * SDK clients talking to the local endpoint, which holds GuardDuty's findings and Security Hub's
 * copies of them; then the response undone from what its steps recorded.
 */
const RULES = fileURLToPath(new URL('../../../../rules', import.meta.url));
const FINDINGS = [
  '01-instance-credential-exfiltration.json',
  '02-s3-exfiltration.json',
  '03-cloudtrail-logging-disabled.json',
  '04-root-credential-usage.json',
];
const RESPONSE_TIME = new Date('2026-11-27T18:30:00.000Z');

type Event = { detail: { id: string; arn: string } };

const scenarioEvents = (): Promise<Event[]> =>
  Promise.all(
    FINDINGS.map(
      async (file) =>
        JSON.parse(
          await readFile(new URL(`../../../../examples/scenario/findings/${file}`, import.meta.url), 'utf8'),
        ) as Event,
    ),
  );

const registry = createRegistry();

const servicesFor = (aws: FakeAws): AwsServices =>
  createAwsServices({
    clientConfig: { endpoint: aws.url, maxAttempts: 2 },
    credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
    env: { RIPOSTE_SNS_TOPIC_ARN: SCENARIO.topicArn },
  });

let fake: FakeAws | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** The scenario's account, GuardDuty holding the scenario's findings (and Security Hub their copies). */
const account = async (seed: Partial<FakeAccountSeed> = {}): Promise<{ aws: FakeAws; events: Event[] }> => {
  const aws = await startFakeAws({ seed: { ...scenarioSeed(), ...seed } });
  fake = aws;
  const events = await scenarioEvents();
  holdFindings(aws.state, events, RESPONSE_TIME);
  return { aws, events };
};

const respond = async (
  aws: FakeAws,
  events: Event[],
  playbooks: Playbook[],
  mode: EngineMode = 'enforce',
): Promise<Report[]> => {
  const engine = createEngine({
    playbooks,
    registry,
    mode,
    clock: () => RESPONSE_TIME,
    services: servicesFor(aws),
  });
  const reports: Report[] = [];
  for (const event of events) reports.push(...(await engine.handleEvent(event)));
  return reports;
};

const shipped = () => loadPlaybooks([RULES], { registry });

/** A playbook of the test's own, compiled as a playbook file would be. */
const playbook = (yaml: string): Playbook[] => parsePlaybooks(yaml, 'feedback.yaml', { registry });

const stepsOf = (reports: Report[], action: string) =>
  reports.flatMap((report) => report.steps.filter((step) => step.action === action));

const mutations = (aws: FakeAws) => aws.mutatingCalls().map((call) => `${call.service} ${call.operation}`);

/** The ARN of the scenario's first finding, for seeds built before the events are read. */
const FIRST_ARN = `arn:aws:guardduty:${SCENARIO.region}:${SCENARIO.accountId}:detector/${SCENARIO.detectorId}/finding/7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01`;

/** Security Hub's copy of a finding, as the endpoint's snapshot shows it. */
const copyOf = (aws: FakeAws, event: Event) => aws.snapshot().securityHub.findings[event.detail.arn];

describe('update-securityhub-finding, through the shipped playbooks', () => {
  it('resolves each contained finding in Security Hub with a note of the steps, and leaves root usage to a person', async () => {
    const { aws, events } = await account({ securityHub: { enabled: true } });

    const reports = await respond(aws, events, await shipped());

    expect(stepsOf(reports, 'update-securityhub-finding').map((step) => step.status)).toEqual([
      'applied',
      'applied',
      'applied',
    ]);
    expect(events.map((event) => copyOf(aws, event)?.workflowStatus)).toEqual([
      'RESOLVED',
      'RESOLVED',
      'RESOLVED',
      'NEW',
    ]);
    const note = copyOf(aws, events[0]!)?.note;
    expect(note?.updatedBy).toBe('riposte');
    expect(note?.text).toMatch(/^Riposte, playbook ec2-instance-credential-exfiltration: contained\. /);
    expect(note?.text).toMatch(
      new RegExp(`detach-instance-profile on instance ${SCENARIO.instanceId}[^;]*: applied`),
    );
    expect(note?.text).not.toContain('notify');
    expect(copyOf(aws, events[2]!)?.note?.text).toContain('restart-cloudtrail-logging on trail');
    expect(mutations(aws).filter((call) => call.startsWith('SecurityHub'))).toEqual([
      'SecurityHub BatchUpdateFindings',
      'SecurityHub BatchUpdateFindings',
      'SecurityHub BatchUpdateFindings',
    ]);
    expect(reports.map((report) => report.outcome)).toEqual(['applied', 'applied', 'applied', 'applied']);
  });

  it('is a no-op, not a failure, where the account has not enabled Security Hub', async () => {
    const { aws, events } = await account();

    const reports = await respond(aws, events, await shipped());

    const updates = stepsOf(reports, 'update-securityhub-finding');
    expect(updates.map((step) => [step.status, step.reason])).toEqual(
      Array(3).fill([
        'no-op',
        `Security Hub is not enabled in account ${SCENARIO.accountId} in ${SCENARIO.region}: nothing to update`,
      ]),
    );
    expect(aws.calls.filter((call) => call.service === 'SecurityHub').map((call) => call.errorCode)).toEqual(
      Array(3).fill('InvalidAccessException'),
    );
    expect(mutations(aws).some((call) => call.startsWith('SecurityHub'))).toBe(false);
    expect(reports.map((report) => report.outcome)).toEqual(['applied', 'applied', 'applied', 'applied']);
  });

  it('does not touch a finding a person already resolved or suppressed', async () => {
    const { aws, events } = await account({
      securityHub: {
        enabled: true,
        findings: [
          {
            id: FIRST_ARN,
            workflowStatus: 'SUPPRESSED',
            note: { text: 'known pentest', updatedBy: 'analyst' },
          },
        ],
      },
    });

    const reports = await respond(aws, events.slice(0, 1), await shipped());

    expect(stepsOf(reports, 'update-securityhub-finding')).toEqual([
      expect.objectContaining({
        status: 'no-op',
        reason: 'the finding is suppressed in Security Hub; left as it is',
      }),
    ]);
    expect(copyOf(aws, events[0]!)).toEqual({
      workflowStatus: 'SUPPRESSED',
      note: { text: 'known pentest', updatedBy: 'analyst' },
    });
  });

  it('changes nothing in Security Hub when the same findings are handled again', async () => {
    const { aws, events } = await account({ securityHub: { enabled: true } });
    await respond(aws, events, await shipped());
    const first = aws.snapshot().securityHub;

    const again = await respond(aws, events, await shipped());

    expect(aws.snapshot().securityHub).toEqual(first);
    expect(stepsOf(again, 'update-securityhub-finding').map((step) => step.status)).toEqual([
      'no-op',
      'no-op',
      'no-op',
    ]);
  });
});

describe('update-securityhub-finding while a step waits for approval', () => {
  it('marks the finding NOTIFIED, saying steps are held', async () => {
    const { aws, events } = await account({ securityHub: { enabled: true } });
    const held = playbook(`
name: contain-after-approval
approval: required
match:
  types: [UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*]
actions:
  - action: detach-instance-profile
  - action: update-securityhub-finding
`);

    const reports = await respond(aws, events.slice(0, 1), held);

    expect(reports[0]?.steps.map((step) => [step.action, step.status])).toEqual([
      ['detach-instance-profile', 'held'],
      ['update-securityhub-finding', 'applied'],
    ]);
    expect(copyOf(aws, events[0]!)?.workflowStatus).toBe('NOTIFIED');
    expect(copyOf(aws, events[0]!)?.note?.text).toMatch(
      /^Riposte, playbook contain-after-approval: steps are held \(awaiting approval or the mutation limit\)\. detach-instance-profile on instance i-0a1b2c3d4e5f67890[^;]*: held\.$/,
    );
    expect(aws.state.associations.get(SCENARIO.associationId)?.state).toBe('associated');
  });
});

describe('archive-guardduty-finding, and undoing the feedback', () => {
  const RESTART_AND_CLOSE = `
name: restart-and-close
match:
  types: [Stealth:IAMUser/CloudTrailLoggingDisabled]
actions:
  - action: restart-cloudtrail-logging
  - action: update-securityhub-finding
  - action: archive-guardduty-finding
`;

  it('archives the finding in GuardDuty once the response is done', async () => {
    const { aws, events } = await account({ securityHub: { enabled: true } });
    const [, , trail] = events;

    const reports = await respond(aws, [trail!], playbook(RESTART_AND_CLOSE));

    expect(reports[0]?.steps.map((step) => [step.action, step.status])).toEqual([
      ['restart-cloudtrail-logging', 'applied'],
      ['update-securityhub-finding', 'applied'],
      ['archive-guardduty-finding', 'applied'],
    ]);
    expect(aws.snapshot().guardDuty.findings[SCENARIO.detectorId]?.[trail!.detail.id]).toEqual({
      archived: true,
    });
    expect(aws.calls.find((call) => call.operation === 'ArchiveFindings')?.params).toEqual({
      DetectorId: SCENARIO.detectorId,
      FindingIds: [trail!.detail.id],
    });
    expect(copyOf(aws, trail!)?.workflowStatus).toBe('RESOLVED');
  });

  it('plans both calls in dry-run and makes neither', async () => {
    const { aws, events } = await account({ securityHub: { enabled: true } });

    const reports = await respond(aws, [events[2]!], playbook(RESTART_AND_CLOSE), 'dry-run');

    expect(aws.mutatingCalls()).toEqual([]);
    expect(reports[0]?.steps.flatMap((step) => step.calls.map((call) => call.operation))).toEqual([
      'StartLogging',
      'BatchUpdateFindings',
      'ArchiveFindings',
    ]);
  });

  it('leaves the account as it was, but for the trail and the note, once the response is undone', async () => {
    const { aws, events } = await account({ securityHub: { enabled: true } });
    const trail = events[2]!;
    const before = aws.snapshot();
    const [report] = await respond(aws, [trail], playbook(RESTART_AND_CLOSE));
    const options = { registry, servicesFor: () => servicesFor(aws), mode: 'enforce' as const };

    const plan = await planUndo(report!, report!.steps, options);
    const undone = await executeUndo(plan, report!.steps, options);

    const byAction = Object.fromEntries(undone.steps.map((step) => [step.action, step.status]));
    expect(byAction).toMatchObject({
      'archive-guardduty-finding': 'applied',
      'update-securityhub-finding': 'applied',
    });
    const after = aws.snapshot();
    expect(after.securityHub.findings[trail.detail.arn]).toEqual({
      workflowStatus: 'NEW',
      note: { text: 'Riposte undid its response', updatedBy: 'riposte' },
    });
    expect({ ...after, trails: before.trails, securityHub: before.securityHub }).toEqual(before);
    expect(aws.state.securityHub.workflows.get(trail.detail.arn)?.notes.map((note) => note.text)).toEqual([
      expect.stringMatching(/^Riposte, playbook restart-and-close: contained\./),
      'Riposte undid its response',
    ]);
  });

  it('leaves nothing to undo once a person has moved the finding on', async () => {
    const { aws, events } = await account({ securityHub: { enabled: true } });
    const trail = events[2]!;
    const [report] = await respond(aws, [trail], playbook(RESTART_AND_CLOSE));
    aws.state.securityHub.workflows.set(trail.detail.arn, { status: 'SUPPRESSED', notes: [] });
    const options = { registry, servicesFor: () => servicesFor(aws), mode: 'enforce' as const };

    const plan = await planUndo(report!, report!.steps, options);

    const update = plan.steps.find((step) => step.action === 'update-securityhub-finding');
    expect(update?.plan).toMatchObject({ status: 'refused', calls: [] });
    expect(update?.plan.reason).toContain('changed since the response');
  });
});
