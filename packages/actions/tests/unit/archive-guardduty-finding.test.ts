import {
  ArchiveFindingsCommand,
  BadRequestException,
  GetFindingsCommand,
  GuardDutyClient,
  InternalServerErrorException,
  UnarchiveFindingsCommand,
} from '@aws-sdk/client-guardduty';
import {
  type EngineMode,
  type Finding,
  hasInverse,
  type InverseContext,
  type StepSummary,
  type UndoState,
} from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { archiveGuardDutyFinding } from '../../src/actions/archive-guardduty-finding.js';
import type { AwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
import { ACCOUNT, commandAndControl, REGION } from '../helpers/findings.js';

const guardduty = mockClient(GuardDutyClient);

const FINDING = commandAndControl();
const DETECTOR = '37da5a0204286ccd967d2395320d4dcd';
const ADDRESS = { DetectorId: DETECTOR, FindingIds: [FINDING.id] };

/** GuardDuty's copy of the finding, as GetFindings returns it (the SDK's PascalCase). */
const holding = (archived: boolean | undefined) => ({
  Findings:
    archived === undefined
      ? []
      : [
          {
            SchemaVersion: '2.0',
            Id: FINDING.id,
            Arn: FINDING.arn!,
            AccountId: ACCOUNT,
            Region: REGION,
            Type: FINDING.type.name,
            Severity: FINDING.severity,
            CreatedAt: FINDING.createdAt!,
            UpdatedAt: FINDING.updatedAt!,
            Resource: { ResourceType: 'Instance' },
            Service: { Archived: archived, Count: 4 },
          },
        ],
  $metadata: { requestId: 'get-1' },
});

/** A response whose every step did what it should. */
const done = new Map<string, StepSummary>([
  [
    'p/isolate-instance/0',
    { action: 'isolate-instance', target: 'instance i-1', status: 'applied', phase: 'contain' },
  ],
  ['p/notify/0', { action: 'notify', target: `finding ${FINDING.id}`, status: 'applied', phase: 'notify' }],
]);

const contextOf = (
  options: { finding?: Finding; mode?: EngineMode; previous?: Map<string, StepSummary> } = {},
) =>
  contextFor(archiveGuardDutyFinding, options.finding ?? FINDING, {
    previous: options.previous ?? done,
    ...(options.mode ? { mode: options.mode } : {}),
  });

beforeEach(() => {
  guardduty.reset();
  guardduty.on(GetFindingsCommand).resolves(holding(false));
  guardduty.on(ArchiveFindingsCommand).resolves({ $metadata: { requestId: 'archive-1' } });
  guardduty.on(UnarchiveFindingsCommand).resolves({ $metadata: { requestId: 'unarchive-1' } });
});
afterAll(() => guardduty.restore());

describe('archive-guardduty-finding', () => {
  it("targets the finding in its detector's region", () => {
    expect(archiveGuardDutyFinding.targets({ ...FINDING, region: 'eu-west-1' }, {}).targets).toEqual([
      expect.objectContaining({ kind: 'finding', id: FINDING.id, arn: FINDING.arn, region: REGION }),
    ]);
  });

  it('plans ArchiveFindings on the detector its ARN names', async () => {
    const plan = await archiveGuardDutyFinding.plan(contextOf());

    expect(plan.status).toBe('planned');
    expect(guardduty.commandCalls(GetFindingsCommand)[0]?.args[0].input).toEqual(ADDRESS);
    expect(plan.lookups[0]).toMatchObject({ status: 'done', summary: 'the finding is active' });
    expect(plan.calls).toEqual([
      { service: 'GuardDuty', operation: 'ArchiveFindings', input: ADDRESS, mutating: true },
    ]);
  });

  it('plans a no-op when the finding is already archived', async () => {
    guardduty.on(GetFindingsCommand).resolves(holding(true));

    const plan = await archiveGuardDutyFinding.plan(contextOf());

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `finding ${FINDING.id} is already archived in GuardDuty`,
    });
  });

  it('plans a no-op when the detector no longer holds the finding', async () => {
    guardduty.on(GetFindingsCommand).resolves(holding(undefined));

    const plan = await archiveGuardDutyFinding.plan(contextOf());

    expect(plan).toMatchObject({ status: 'no-op', reason: expect.stringContaining('no longer holds') });
  });

  it.each(['held', 'failed', 'not-run'])(
    'leaves the finding active when a step before it is %s',
    async (status) => {
      const previous = new Map<string, StepSummary>([
        ...done,
        ['p/revoke/0', { action: 'revoke-role-sessions', target: 'role r', status, phase: 'revoke' }],
      ]);

      const plan = await archiveGuardDutyFinding.plan(contextOf({ previous }));

      expect(plan).toMatchObject({ status: 'no-op', lookups: [] });
      expect(plan.reason).toBe(
        `a step of the response is ${status} ("revoke-role-sessions" on "role r"): the finding stays active for a person to look at`,
      );
      expect(sentCommands(guardduty)).toEqual([]);
    },
  );

  it('plans offline without credentials', async () => {
    guardduty.on(GetFindingsCommand).rejects(credentialsError());

    const plan = await archiveGuardDutyFinding.plan(contextOf());

    expect(plan).toMatchObject({
      status: 'planned',
      lookups: [{ status: 'unavailable', summary: `would look up GetFindings ${DETECTOR}/${FINDING.id}` }],
    });
  });

  it('sends no mutating command while planning', async () => {
    await archiveGuardDutyFinding.plan(contextOf());

    expect(sentCommands(guardduty)).toEqual(['GetFindingsCommand']);
  });

  it('archives the finding and records its detector and id', async () => {
    const ctx = contextOf();

    const outcome = await archiveGuardDutyFinding.execute(ctx, await archiveGuardDutyFinding.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'applied',
      outputs: { detectorId: DETECTOR, findingId: FINDING.id },
    });
    expect(guardduty.commandCalls(ArchiveFindingsCommand).map((call) => call.args[0].input)).toEqual([
      ADDRESS,
    ]);
    expect(outcome.calls.at(-1)).toMatchObject({ operation: 'ArchiveFindings', requestId: 'archive-1' });
    expect(outcome.undo).toEqual({ detectorId: DETECTOR, findingId: FINDING.id });
    expect(createRegistry().validateUndoState('archive-guardduty-finding', outcome.undo)).toEqual([]);
  });

  it('skips when the finding was archived since planning', async () => {
    guardduty.on(GetFindingsCommand).resolvesOnce(holding(false)).resolves(holding(true));
    const ctx = contextOf();

    const outcome = await archiveGuardDutyFinding.execute(ctx, await archiveGuardDutyFinding.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(outcome.undo).toBeUndefined();
    expect(guardduty.commandCalls(ArchiveFindingsCommand)).toHaveLength(0);
  });

  it('fails without retry when GuardDuty refuses the call (a member account may not archive)', async () => {
    guardduty.on(ArchiveFindingsCommand).rejects(
      new BadRequestException({
        message: 'The request is rejected because the current account cannot archive findings.',
        $metadata: { httpStatusCode: 400, requestId: 'archive-denied' },
      }),
    );
    const ctx = contextOf();

    const outcome = await archiveGuardDutyFinding.execute(ctx, await archiveGuardDutyFinding.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'BadRequestException', retryable: false },
    });
    expect(outcome.undo).toBeUndefined();
  });

  it('fails retryably on an internal GuardDuty error', async () => {
    guardduty.on(ArchiveFindingsCommand).rejects(
      new InternalServerErrorException({
        message: 'Internal server error',
        $metadata: { httpStatusCode: 500 },
      }),
    );
    const ctx = contextOf();

    const outcome = await archiveGuardDutyFinding.execute(ctx, await archiveGuardDutyFinding.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'InternalServerErrorException', retryable: true },
    });
  });

  it('skips when a step before it turns out held at execution', async () => {
    const ctx = contextOf();
    const plan = await archiveGuardDutyFinding.plan(ctx);
    const previous = new Map<string, StepSummary>([
      ...done,
      ['p/x/0', { action: 'isolate-instance', target: 'instance i-2', status: 'held', phase: 'contain' }],
    ]);

    const outcome = await archiveGuardDutyFinding.execute({ ...ctx, previous }, plan);

    expect(outcome.status).toBe('skipped');
    expect(guardduty.commandCalls(ArchiveFindingsCommand)).toHaveLength(0);
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    const ctx = contextOf({ mode: 'dry-run' });

    const outcome = await archiveGuardDutyFinding.execute(ctx, await archiveGuardDutyFinding.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(guardduty.commandCalls(ArchiveFindingsCommand)).toHaveLength(0);
  });
});

describe('archive-guardduty-finding against a forged finding', () => {
  it.each([
    ['another account', FINDING.arn!.replace(`:${ACCOUNT}:`, ':444455556666:'), "not the finding's account"],
    ['a malformed detector id', FINDING.arn!.replace(DETECTOR, 'DETECTOR-1'), 'GuardDuty detector id'],
    ['another finding', FINDING.arn!.replace(/[a-z0-9]+$/, 'abc123'), 'names finding'],
  ])('refuses a finding ARN of %s without any AWS call', async (_, arn, why) => {
    const ctx = contextOf({ finding: { ...FINDING, arn } });

    const plan = await archiveGuardDutyFinding.plan(ctx);
    const outcome = await archiveGuardDutyFinding.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(plan.reason).toContain(why);
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(sentCommands(guardduty)).toEqual([]);
  });

  it('refuses a service.detectorId that is not a detector id', async () => {
    const finding: Finding = {
      ...FINDING,
      arn: undefined,
      raw: { ...FINDING.raw, service: { detectorId: '*' } },
    };

    const plan = await archiveGuardDutyFinding.plan(contextOf({ finding }));

    expect(plan).toMatchObject({ status: 'refused', calls: [] });
    expect(plan.reason).toContain('is not a valid GuardDuty detector id');
    expect(sentCommands(guardduty)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

const inverse = (() => {
  const { undo } = archiveGuardDutyFinding;
  if (!hasInverse(undo)) throw new Error('archive-guardduty-finding declares no inverse');
  return undo;
})();

const archived = { detectorId: DETECTOR, findingId: FINDING.id };

const undoContext = (
  state: UndoState,
  options: { mode?: EngineMode } = {},
): InverseContext<UndoState, AwsServices> => {
  const ctx = contextFor(archiveGuardDutyFinding, FINDING);
  return {
    findingId: FINDING.id,
    target: ctx.target,
    state,
    services: ctx.services as AwsServices,
    mode: options.mode ?? 'enforce',
    now: NOW,
  };
};

describe('archive-guardduty-finding undo', () => {
  it('plans UnarchiveFindings while the finding is archived', async () => {
    guardduty.on(GetFindingsCommand).resolves(holding(true));

    const plan = await inverse.plan(undoContext(archived));

    expect(plan).toMatchObject({
      status: 'planned',
      calls: [{ service: 'GuardDuty', operation: 'UnarchiveFindings', input: ADDRESS, mutating: true }],
    });
  });

  it.each([
    ['the finding is active again', false, 'is not archived in GuardDuty (any more)'],
    ['the detector no longer holds it', undefined, 'no longer holds'],
  ])('plans a no-op when %s', async (_, state, reason) => {
    guardduty.on(GetFindingsCommand).resolves(holding(state));

    const plan = await inverse.plan(undoContext(archived));

    expect(plan.status).toBe('no-op');
    expect(plan.reason).toContain(reason);
  });

  it('unarchives the finding', async () => {
    guardduty.on(GetFindingsCommand).resolves(holding(true));
    const ctx = undoContext(archived);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(guardduty.commandCalls(UnarchiveFindingsCommand).map((call) => call.args[0].input)).toEqual([
      ADDRESS,
    ]);
  });

  it('skips when the finding was unarchived since planning', async () => {
    guardduty.on(GetFindingsCommand).resolvesOnce(holding(true)).resolves(holding(false));
    const ctx = undoContext(archived);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(guardduty.commandCalls(UnarchiveFindingsCommand)).toHaveLength(0);
  });

  it('refuses to mutate in dry-run', async () => {
    guardduty.on(GetFindingsCommand).resolves(holding(true));
    const ctx = undoContext(archived, { mode: 'dry-run' });

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
  });

  it.each([
    ['an upper-case detector id', { ...archived, detectorId: 'ABC' }],
    ['a wildcard finding id', { ...archived, findingId: '*' }],
    ['an unknown member', { ...archived, archived: true }],
    ['no finding id', { detectorId: DETECTOR }],
  ])('refuses a recorded state with %s at validation', (_, state) => {
    expect(createRegistry().validateUndoState('archive-guardduty-finding', state)).not.toEqual([]);
  });

  it.each([
    ['another finding', { ...archived, findingId: 'abc123' }],
    ['another detector', { ...archived, detectorId: '0f0e0d0c0b0a09080706050403020100' }],
  ])('refuses, without any call, a state naming %s than the target', async (_, state) => {
    const ctx = undoContext(state);

    const plan = await inverse.plan(ctx);
    const outcome = await inverse.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(sentCommands(guardduty)).toEqual([]);
  });
});
