import {
  AccessDeniedException,
  type AwsSecurityFinding,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  InvalidAccessException,
  LimitExceededException,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
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
import { updateSecurityHubFinding } from '../../src/actions/update-securityhub-finding.js';
import type { AwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
import { ACCOUNT, instanceCredentialExfiltration, REGION } from '../helpers/findings.js';

const securityhub = mockClient(SecurityHubClient);

const FINDING = instanceCredentialExfiltration();
const FINDING_ARN = FINDING.arn!;
const PRODUCT_ARN = `arn:aws:securityhub:${REGION}::product/aws/guardduty`;
const IDENTIFIERS = [{ Id: FINDING_ARN, ProductArn: PRODUCT_ARN }];

/** The steps of a response that contained the threat. */
const contained = new Map<string, StepSummary>([
  [
    'p/tag-resource/0',
    { action: 'tag-resource', target: 'instance i-0a1b2c3d4e5f67890', status: 'applied', phase: 'preserve' },
  ],
  [
    'p/detach-instance-profile/0',
    {
      action: 'detach-instance-profile',
      target: 'instance i-0a1b2c3d4e5f67890',
      status: 'applied',
      phase: 'contain',
    },
  ],
  ['p/notify/0', { action: 'notify', target: `finding ${FINDING.id}`, status: 'applied', phase: 'notify' }],
]);

/** The same response with its revocation held for approval. */
const held = new Map<string, StepSummary>([
  ...contained,
  [
    'p/revoke-role-sessions/0',
    {
      action: 'revoke-role-sessions',
      target: 'role app-server-s3-full',
      status: 'held',
      reason: 'awaiting approval',
      phase: 'revoke',
    },
  ],
]);

const CONTAINED_NOTE =
  'Riposte, playbook instance-credential-exfiltration: contained. ' +
  'tag-resource on instance i-0a1b2c3d4e5f67890: applied; ' +
  'detach-instance-profile on instance i-0a1b2c3d4e5f67890: applied.';

/** Security Hub's copy of the finding, as GetFindings returns it. */
const copy = (status = 'NEW', note?: string): AwsSecurityFinding =>
  ({
    SchemaVersion: '2018-10-08',
    Id: FINDING_ARN,
    ProductArn: PRODUCT_ARN,
    GeneratorId: FINDING.id,
    AwsAccountId: ACCOUNT,
    Region: REGION,
    Workflow: { Status: status },
    WorkflowState: status,
    RecordState: 'ACTIVE',
    ...(note === undefined
      ? {}
      : { Note: { Text: note, UpdatedBy: 'riposte', UpdatedAt: NOW.toISOString() } }),
  }) as AwsSecurityFinding;

const holding = (finding?: AwsSecurityFinding) => ({
  Findings: finding ? [finding] : [],
  $metadata: { requestId: 'get-1' },
});

const notSubscribed = () =>
  new InvalidAccessException({
    message: `Account ${ACCOUNT} is not subscribed to AWS Security Hub`,
    $metadata: { httpStatusCode: 401, requestId: 'get-denied' },
  });

const getInput = {
  Filters: {
    Id: [{ Value: FINDING_ARN, Comparison: 'EQUALS' }],
    ProductArn: [{ Value: PRODUCT_ARN, Comparison: 'EQUALS' }],
  },
  MaxResults: 1,
};

/** The note text of the plan's one BatchUpdateFindings call. */
const noteOf = (plan: { calls: { input: Record<string, unknown> }[] }): string =>
  (plan.calls[0]?.input.Note as { Text?: string } | undefined)?.Text ?? '';

const contextOf = (
  previous: Map<string, StepSummary> = contained,
  options: { finding?: Finding; mode?: EngineMode; params?: Record<string, unknown> } = {},
) =>
  contextFor(updateSecurityHubFinding, options.finding ?? FINDING, {
    previous,
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.params ? { params: options.params } : {}),
  });

beforeEach(() => {
  securityhub.reset();
  securityhub.on(GetFindingsCommand).resolves(holding(copy()));
  securityhub.on(BatchUpdateFindingsCommand).resolves({
    ProcessedFindings: IDENTIFIERS,
    UnprocessedFindings: [],
    $metadata: { requestId: 'update-1' },
  });
});
afterAll(() => securityhub.restore());

describe('update-securityhub-finding', () => {
  it("targets the finding itself, in its detector's region, by its GuardDuty ARN", () => {
    const finding: Finding = { ...FINDING, region: 'eu-west-1' };

    expect(updateSecurityHubFinding.targets(finding, {}).targets).toEqual([
      expect.objectContaining({ kind: 'finding', id: FINDING.id, arn: FINDING_ARN, region: REGION }),
    ]);
  });

  it('targets a finding without an ARN by its service.detectorId, and none without either', () => {
    const byDetector: Finding = {
      ...FINDING,
      arn: undefined,
      raw: { ...FINDING.raw, service: { detectorId: '37da5a0204286ccd967d2395320d4dcd' } },
    };

    expect(updateSecurityHubFinding.targets(byDetector, {}).targets[0]?.arn).toBe(FINDING_ARN);
    expect(updateSecurityHubFinding.targets({ ...FINDING, arn: undefined }, {})).toEqual({
      targets: [],
      reason: 'the finding carries no GuardDuty finding ARN or detector id',
    });
  });

  it('plans RESOLVED with a note listing the steps when containment applied', async () => {
    const plan = await updateSecurityHubFinding.plan(contextOf());

    expect(plan.status).toBe('planned');
    expect(plan.lookups).toEqual([
      expect.objectContaining({ status: 'done', summary: 'workflow status NEW', requestId: 'get-1' }),
    ]);
    expect(securityhub.commandCalls(GetFindingsCommand)[0]?.args[0].input).toEqual(getInput);
    expect(plan.calls).toEqual([
      {
        service: 'SecurityHub',
        operation: 'BatchUpdateFindings',
        input: {
          FindingIdentifiers: IDENTIFIERS,
          Workflow: { Status: 'RESOLVED' },
          Note: { Text: CONTAINED_NOTE, UpdatedBy: 'riposte' },
        },
        mutating: true,
      },
    ]);
  });

  it('plans NOTIFIED while a step is held, even when containment applied', async () => {
    const plan = await updateSecurityHubFinding.plan(contextOf(held));

    expect(plan.calls[0]?.input).toMatchObject({ Workflow: { Status: 'NOTIFIED' } });
    expect(noteOf(plan)).toMatch(
      /^Riposte, playbook instance-credential-exfiltration: steps are held \(awaiting approval or the mutation limit\)\./,
    );
  });

  it.each([
    ['nothing was contained', new Map([...contained].filter(([, step]) => step.phase !== 'contain'))],
    [
      'a step failed',
      new Map<string, StepSummary>([
        ...contained,
        [
          'p/revoke/0',
          { action: 'revoke-role-sessions', target: 'role r', status: 'failed', phase: 'revoke' },
        ],
      ]),
    ],
    ['no steps ran before it', new Map<string, StepSummary>()],
  ])('plans NOTIFIED when %s', async (_, previous) => {
    const plan = await updateSecurityHubFinding.plan(contextOf(previous));

    expect(plan.calls[0]?.input).toMatchObject({ Workflow: { Status: 'NOTIFIED' } });
  });

  it('sets the statuses the params give, and appends their note', async () => {
    const plan = await updateSecurityHubFinding.plan(
      contextOf(contained, { params: { contained: 'NOTIFIED', note: 'Owner: platform team.' } }),
    );

    expect(plan.calls[0]?.input).toMatchObject({
      Workflow: { Status: 'NOTIFIED' },
      Note: { Text: `${CONTAINED_NOTE} Owner: platform team.` },
    });
  });

  it('keeps the note within 512 characters and on one line, whatever the targets say', async () => {
    const previous = new Map<string, StepSummary>(
      Array.from({ length: 20 }, (_, index) => [
        `p/tag/${index}`,
        {
          action: 'tag-resource',
          target: `instance i-0\n${'x'.repeat(70)}`,
          status: 'applied',
          phase: 'preserve',
        },
      ]),
    );

    const plan = await updateSecurityHubFinding.plan(contextOf(previous));

    const text = noteOf(plan);
    expect([...text]).toHaveLength(512);
    expect(text.endsWith('…')).toBe(true);
    expect(text).not.toMatch(/[\n\r]/);
  });

  it('plans a no-op when the account has not enabled Security Hub', async () => {
    securityhub.on(GetFindingsCommand).rejects(notSubscribed());

    const plan = await updateSecurityHubFinding.plan(contextOf());

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `Security Hub is not enabled in account ${ACCOUNT} in ${REGION}: nothing to update`,
      calls: [],
    });
    expect(plan.lookups[0]).toMatchObject({ status: 'done', errorCode: 'InvalidAccessException' });
  });

  it.each([
    [
      'Security Hub holds no copy yet',
      undefined,
      `Security Hub holds no copy of finding ${FINDING.id} (yet)`,
    ],
    [
      'the copy is suppressed',
      copy('SUPPRESSED'),
      'the finding is suppressed in Security Hub; left as it is',
    ],
    [
      'the copy already has the status and the note',
      copy('RESOLVED', CONTAINED_NOTE),
      'the finding is already RESOLVED in Security Hub, with this note',
    ],
  ])('plans a no-op when %s', async (_, finding, reason) => {
    securityhub.on(GetFindingsCommand).resolves(holding(finding));

    const plan = await updateSecurityHubFinding.plan(contextOf());

    expect(plan.status).toBe('no-op');
    expect(plan.reason).toContain(reason);
  });

  it('never moves a RESOLVED finding back to NOTIFIED', async () => {
    securityhub.on(GetFindingsCommand).resolves(holding(copy('RESOLVED', 'resolved by a person')));

    const plan = await updateSecurityHubFinding.plan(contextOf(held));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: 'the finding is already "RESOLVED" in Security Hub; Riposte does not move it back to NOTIFIED',
    });
  });

  it('updates the note of a finding already at the status', async () => {
    securityhub.on(GetFindingsCommand).resolves(holding(copy('RESOLVED', 'an older note')));

    const plan = await updateSecurityHubFinding.plan(contextOf());

    expect(plan.status).toBe('planned');
  });

  it('plans offline without credentials', async () => {
    securityhub.on(GetFindingsCommand).rejects(credentialsError());

    const plan = await updateSecurityHubFinding.plan(contextOf());

    expect(plan).toMatchObject({
      status: 'planned',
      lookups: [{ status: 'unavailable', summary: `would look up GetFindings ${FINDING_ARN}` }],
    });
    expect(plan.calls).toHaveLength(1);
  });

  it('sends no mutating command while planning', async () => {
    await updateSecurityHubFinding.plan(contextOf());

    expect(sentCommands(securityhub)).toEqual(['GetFindingsCommand']);
  });

  it('updates the workflow status and the note, and records the status it replaced', async () => {
    const ctx = contextOf();

    const outcome = await updateSecurityHubFinding.execute(ctx, await updateSecurityHubFinding.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'applied',
      outputs: { findingArn: FINDING_ARN, workflowStatus: 'RESOLVED', previousStatus: 'NEW' },
    });
    expect(securityhub.commandCalls(BatchUpdateFindingsCommand).map((call) => call.args[0].input)).toEqual([
      {
        FindingIdentifiers: IDENTIFIERS,
        Workflow: { Status: 'RESOLVED' },
        Note: { Text: CONTAINED_NOTE, UpdatedBy: 'riposte' },
      },
    ]);
    expect(outcome.calls.at(-1)).toMatchObject({ operation: 'BatchUpdateFindings', requestId: 'update-1' });
    expect(outcome.undo).toEqual({
      findingArn: FINDING_ARN,
      productArn: PRODUCT_ARN,
      previousStatus: 'NEW',
      status: 'RESOLVED',
    });
    expect(createRegistry().validateUndoState('update-securityhub-finding', outcome.undo)).toEqual([]);
  });

  it('skips when the copy was updated since planning', async () => {
    securityhub
      .on(GetFindingsCommand)
      .resolvesOnce(holding(copy()))
      .resolves(holding(copy('RESOLVED', CONTAINED_NOTE)));
    const ctx = contextOf();

    const outcome = await updateSecurityHubFinding.execute(ctx, await updateSecurityHubFinding.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(outcome.undo).toBeUndefined();
    expect(securityhub.commandCalls(BatchUpdateFindingsCommand)).toHaveLength(0);
  });

  it('skips, without failing, when Security Hub is not enabled', async () => {
    securityhub.on(GetFindingsCommand).rejects(notSubscribed());
    const ctx = contextOf();

    const outcome = await updateSecurityHubFinding.execute(ctx, await updateSecurityHubFinding.plan(ctx));

    expect(outcome).toMatchObject({ status: 'skipped', reason: expect.stringContaining('is not enabled') });
  });

  it('fails with the error code Security Hub gives a finding it did not update, and records no undo', async () => {
    securityhub.on(BatchUpdateFindingsCommand).resolves({
      ProcessedFindings: [],
      UnprocessedFindings: [
        {
          FindingIdentifier: IDENTIFIERS[0],
          ErrorCode: 'FindingNotFound',
          ErrorMessage: 'Finding Not Found',
        },
      ],
      $metadata: { requestId: 'update-2' },
    });
    const ctx = contextOf();

    const outcome = await updateSecurityHubFinding.execute(ctx, await updateSecurityHubFinding.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'FindingNotFound', retryable: true },
    });
    expect(outcome.error?.message).toContain('Finding Not Found');
    expect(outcome.calls.at(-1)).toMatchObject({
      operation: 'BatchUpdateFindings',
      errorCode: 'FindingNotFound',
    });
    expect(outcome.undo).toBeUndefined();
  });

  it.each([
    [
      new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }),
      'LimitExceededException',
      true,
    ],
    [
      new AccessDeniedException({
        message: 'not authorized to perform: securityhub:BatchUpdateFindings',
        $metadata: { httpStatusCode: 403 },
      }),
      'AccessDeniedException',
      false,
    ],
  ])('maps %s to a failed step', async (error, code, retryable) => {
    securityhub.on(BatchUpdateFindingsCommand).rejects(error);
    const ctx = contextOf();

    const outcome = await updateSecurityHubFinding.execute(ctx, await updateSecurityHubFinding.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code, retryable } });
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    const ctx = contextOf(contained, { mode: 'dry-run' });

    const outcome = await updateSecurityHubFinding.execute(ctx, await updateSecurityHubFinding.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(securityhub.commandCalls(BatchUpdateFindingsCommand)).toHaveLength(0);
  });
});

describe('update-securityhub-finding against a forged finding', () => {
  it.each([
    ['another account', FINDING_ARN.replace(`:${ACCOUNT}:`, ':444455556666:'), "not the finding's account"],
    ['another finding', FINDING_ARN.replace(/finding\/[a-z0-9]+$/, 'finding/0000aaaa'), 'names finding'],
    ['a detector only', FINDING_ARN.replace(/\/finding\/[a-z0-9]+$/, ''), 'names no GuardDuty finding'],
    ['a wildcard', FINDING_ARN.replace(/finding\/[a-z0-9]+$/, 'finding/*'), 'wildcard'],
    ['another service', `arn:aws:securityhub:${REGION}:${ACCOUNT}:hub/default`, 'guardduty'],
  ])('refuses a finding ARN of %s without any AWS call', async (_, arn, why) => {
    const ctx = contextOf(contained, { finding: { ...FINDING, arn } });

    const plan = await updateSecurityHubFinding.plan(ctx);
    const outcome = await updateSecurityHubFinding.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(plan.reason).toContain(why);
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(sentCommands(securityhub)).toEqual([]);
  });

  it('refuses a target that is not the finding it was resolved from', async () => {
    const ctx = contextOf();
    const moved = { ...ctx, target: { ...ctx.target, region: 'eu-west-1' } };

    const plan = await updateSecurityHubFinding.plan(moved);

    expect(plan.status).toBe('refused');
    expect(sentCommands(securityhub)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

const inverse = (() => {
  const { undo } = updateSecurityHubFinding;
  if (!hasInverse(undo)) throw new Error('update-securityhub-finding declares no inverse');
  return undo;
})();

/** What a step that resolved the finding recorded. */
const resolved = {
  findingArn: FINDING_ARN,
  productArn: PRODUCT_ARN,
  previousStatus: 'NEW',
  status: 'RESOLVED',
};

const undoContext = (
  state: UndoState,
  options: { mode?: EngineMode } = {},
): InverseContext<UndoState, AwsServices> => {
  const ctx = contextFor(updateSecurityHubFinding, FINDING);
  return {
    findingId: FINDING.id,
    target: ctx.target,
    state,
    services: ctx.services as AwsServices,
    mode: options.mode ?? 'enforce',
    now: NOW,
  };
};

const UNDO_CALL = {
  service: 'SecurityHub',
  operation: 'BatchUpdateFindings',
  input: {
    FindingIdentifiers: IDENTIFIERS,
    Workflow: { Status: 'NEW' },
    Note: { Text: 'Riposte undid its response', UpdatedBy: 'riposte' },
  },
  mutating: true,
};

describe('update-securityhub-finding undo', () => {
  it('plans the previous status back while the copy has the one Riposte set', async () => {
    securityhub.on(GetFindingsCommand).resolves(holding(copy('RESOLVED', CONTAINED_NOTE)));

    const plan = await inverse.plan(undoContext(resolved));

    expect(plan).toMatchObject({ status: 'planned', calls: [UNDO_CALL] });
  });

  it('plans a no-op when the copy is back at the previous status', async () => {
    const plan = await inverse.plan(undoContext(resolved));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: 'the finding is already NEW in Security Hub, as before the response',
    });
  });

  it('refuses when someone changed the status since', async () => {
    securityhub.on(GetFindingsCommand).resolves(holding(copy('SUPPRESSED')));

    const plan = await inverse.plan(undoContext(resolved));

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('it is "SUPPRESSED", neither Riposte\'s RESOLVED nor the previous NEW');
  });

  it.each([
    ['Security Hub is no longer enabled', () => securityhub.on(GetFindingsCommand).rejects(notSubscribed())],
    ['Security Hub no longer holds a copy', () => securityhub.on(GetFindingsCommand).resolves(holding())],
  ])('plans a no-op when %s', async (_, arrange) => {
    arrange();

    const plan = await inverse.plan(undoContext(resolved));

    expect(plan.status).toBe('no-op');
  });

  it('puts the previous status back', async () => {
    securityhub.on(GetFindingsCommand).resolves(holding(copy('RESOLVED', CONTAINED_NOTE)));
    const ctx = undoContext(resolved);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(securityhub.commandCalls(BatchUpdateFindingsCommand).map((call) => call.args[0].input)).toEqual([
      UNDO_CALL.input,
    ]);
  });

  it('skips when the status was put back since planning', async () => {
    securityhub
      .on(GetFindingsCommand)
      .resolvesOnce(holding(copy('RESOLVED')))
      .resolves(holding(copy('NEW')));
    const ctx = undoContext(resolved);

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome.status).toBe('skipped');
    expect(securityhub.commandCalls(BatchUpdateFindingsCommand)).toHaveLength(0);
  });

  it('refuses to mutate in dry-run', async () => {
    securityhub.on(GetFindingsCommand).resolves(holding(copy('RESOLVED')));
    const ctx = undoContext(resolved, { mode: 'dry-run' });

    const outcome = await inverse.execute(ctx, await inverse.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
  });

  it.each([
    ['a suppressing status', { ...resolved, status: 'SUPPRESSED' }],
    ['another product', { ...resolved, productArn: `arn:aws:securityhub:${REGION}::product/aws/inspector` }],
    ['a finding ARN with a wildcard', { ...resolved, findingArn: FINDING_ARN.replace(/[a-z0-9]+$/, '*') }],
    ['an unknown member', { ...resolved, note: 'x' }],
    ['no previous status', { findingArn: FINDING_ARN, productArn: PRODUCT_ARN, status: 'RESOLVED' }],
  ])('refuses a recorded state with %s at validation', (_, state) => {
    expect(createRegistry().validateUndoState('update-securityhub-finding', state)).not.toEqual([]);
  });

  it.each([
    [
      'of another account',
      { ...resolved, findingArn: FINDING_ARN.replace(`:${ACCOUNT}:`, ':444455556666:') },
    ],
    ['of another finding', { ...resolved, findingArn: FINDING_ARN.replace(/[a-z0-9]+$/, 'ffff0000') }],
    ["with another region's product", { ...resolved, productArn: PRODUCT_ARN.replace(REGION, 'eu-west-1') }],
  ])('refuses, without any call, a state naming a finding %s', async (_, state) => {
    const ctx = undoContext(state);

    const plan = await inverse.plan(ctx);
    const outcome = await inverse.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(sentCommands(securityhub)).toEqual([]);
  });
});
