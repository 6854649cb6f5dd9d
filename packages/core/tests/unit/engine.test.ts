import { readFileSync } from 'node:fs';
import {
  ActionConfigurationError,
  type ActionContext,
  type ActionPlan,
  createEngine,
  type Finding,
  normalizeFinding,
  parsePlaybooks,
  type Report,
  type ResponseState,
} from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { type Journal, probeAction, registryOf } from '../helpers/registry.js';

const scenario = (file: string): Finding =>
  normalizeFinding(
    JSON.parse(
      readFileSync(new URL(`../../../../examples/scenario/findings/${file}`, import.meta.url), 'utf8'),
    ),
  );

const credentialExfiltration = () => scenario('01-instance-credential-exfiltration.json');

/** The S3 data-access sample, made a real (non-sample) finding naming three buckets. */
const threeBucketFinding = (): Finding => {
  const raw = JSON.parse(
    readFileSync(
      new URL(
        '../fixtures/findings/elastic-integrations/43-exfiltration-s3-maliciousipcaller.json',
        import.meta.url,
      ),
      'utf8',
    ),
  );
  raw.service.additionalInfo.sample = false;
  const [bucket] = raw.resource.s3BucketDetails;
  raw.resource.s3BucketDetails = ['exports-a', 'exports-b', 'exports-c'].map((name) => ({
    ...bucket,
    name,
    arn: `arn:aws:s3:::${name}`,
  }));
  return normalizeFinding(raw);
};

const playbook = (yaml: string) => parsePlaybooks(yaml, 'engine-test.yaml');

const statuses = (report: Report) => Object.fromEntries(report.steps.map((step) => [step.key, step.status]));

const newJournal = (): Journal => ({ entries: [] });

const standardRegistry = (journal: Journal) =>
  registryOf([
    probeAction('keep-evidence', journal, { phase: 'preserve', kind: 'instance' }),
    probeAction('contain-instance', journal, { phase: 'contain', kind: 'instance' }),
    probeAction('revoke-key', journal, { phase: 'revoke', kind: 'access-key' }),
    probeAction('tell-team', journal, { phase: 'notify', kind: 'finding' }),
  ]);

const RESPONSE = `
name: respond
match: { types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"] }
actions:
  - action: tell-team
  - action: revoke-key
  - action: contain-instance
  - action: keep-evidence
`;

describe('engine modes', () => {
  it('defaults to dry-run and never calls execute', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(RESPONSE),
      registry: standardRegistry(journal),
      services: {},
    });

    const report = await engine.handle(credentialExfiltration());

    expect(engine.mode).toBe('dry-run');
    expect(report.outcome).toBe('dry-run');
    expect(new Set(report.steps.map((step) => step.status))).toEqual(new Set(['dry-run']));
    expect(journal.entries.filter((entry) => entry.startsWith('start'))).toEqual([]);
    expect(report.steps.find((step) => step.action === 'contain-instance')?.calls).toEqual([
      {
        service: 'EC2',
        operation: 'CreateTags',
        input: { Resources: ['i-0a1b2c3d4e5f67890'] },
        mutating: true,
      },
    ]);
  });

  it('keeps a playbook pinned to dry-run from mutating under an enforcing engine', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(`${RESPONSE}mode: dry-run\n`),
      registry: standardRegistry(journal),
      services: {},
      mode: 'enforce',
    });

    const report = await engine.handle(credentialExfiltration());

    expect(report.matched[0]?.mode).toBe('dry-run');
    expect(report.steps.every((step) => step.status === 'dry-run')).toBe(true);
    expect(journal.entries.some((entry) => entry.startsWith('start'))).toBe(false);
  });

  it('refuses a mode other than dry-run or enforce', () => {
    expect(() =>
      createEngine({
        playbooks: [],
        registry: standardRegistry(newJournal()),
        services: {},
        mode: 'yolo' as never,
      }),
    ).toThrow(expect.objectContaining({ code: 'ENGINE_CONFIG_INVALID' }));
  });
});

describe('engine ordering', () => {
  it('preserves evidence, then contains, then revokes, then notifies, whatever the YAML order', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(RESPONSE),
      registry: standardRegistry(journal),
      services: {},
      mode: 'enforce',
    });

    const report = await engine.handle(credentialExfiltration());

    const starts = journal.entries
      .filter((entry) => entry.startsWith('start'))
      .map((entry) => entry.split(' ')[1]);
    expect(starts).toEqual(['keep-evidence', 'contain-instance', 'revoke-key', 'tell-team']);
    expect(report.outcome).toBe('applied');
    const notify = journal.entries.find((entry) => entry.startsWith('end tell-team'));
    expect(notify).toContain('respond/keep-evidence');
    expect(notify).toContain('respond/revoke-key');
  });

  it('follows explicit after: over the phase order', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(`
name: contain-first
match: { types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"] }
actions:
  - action: contain-instance
  - action: keep-evidence
    after: [contain-instance]
`),
      registry: standardRegistry(journal),
      services: {},
      mode: 'enforce',
    });

    await engine.handle(credentialExfiltration());

    const starts = journal.entries
      .filter((entry) => entry.startsWith('start'))
      .map((entry) => entry.split(' ')[1]);
    expect(starts).toEqual(['contain-instance', 'keep-evidence']);
  });

  it('runs independent steps of one phase concurrently', async () => {
    const journal = newJournal();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const registry = registryOf([
      probeAction('contain-one', journal, { phase: 'contain', kind: 'instance', gate }),
      probeAction('contain-two', journal, { phase: 'contain', kind: 'instance', gate }),
    ]);
    const engine = createEngine({
      playbooks: playbook(`
name: parallel
match: { types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"] }
actions: [{ action: contain-one }, { action: contain-two }]
`),
      registry,
      services: {},
      mode: 'enforce',
    });

    const handled = engine.handle(credentialExfiltration());
    await new Promise((resolve) => setImmediate(resolve));
    const startedBeforeRelease = journal.entries.filter((entry) => entry.startsWith('start')).length;
    release();
    await handled;

    expect(startedBeforeRelease).toBe(2);
  });
});

describe('engine failures', () => {
  const failing = (journal: Journal, behaviour: 'fail' | 'fail-retryable' | 'throw') =>
    registryOf([
      probeAction('keep-evidence', journal, { phase: 'preserve', kind: 'instance', behaviour }),
      probeAction('contain-instance', journal, { phase: 'contain', kind: 'instance' }),
      probeAction('tell-team', journal, { phase: 'notify', kind: 'finding' }),
    ]);
  const twoSteps = (onError: string) => `
name: fragile
match: { types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"] }
actions:
  - { action: keep-evidence, onError: ${onError} }
  - action: contain-instance
  - action: tell-team
`;

  it('goes on after a failed step by default and reports it with its code', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(twoSteps('continue')),
      registry: failing(journal, 'fail'),
      services: {},
      mode: 'enforce',
    });

    const report = await engine.handle(credentialExfiltration());

    expect(statuses(report)).toEqual({
      'fragile/keep-evidence': 'failed',
      'fragile/contain-instance': 'applied',
      'fragile/tell-team': 'applied',
    });
    expect(report.steps[0]?.error).toEqual({
      code: 'UnauthorizedOperation',
      message: 'not allowed',
      retryable: false,
    });
    expect(report.outcome).toBe('partial');
    expect(report.retryable).toBe(false);
  });

  it('stops the playbook after a failed step with onError: stop', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(twoSteps('stop')),
      registry: failing(journal, 'fail-retryable'),
      services: {},
      mode: 'enforce',
    });

    const report = await engine.handle(credentialExfiltration());

    expect(statuses(report)).toEqual({
      'fragile/keep-evidence': 'failed',
      'fragile/contain-instance': 'not-run',
      'fragile/tell-team': 'not-run',
    });
    expect(report.steps[1]?.reason).toContain('fragile/keep-evidence');
    expect(report.outcome).toBe('failed');
    expect(report.retryable).toBe(true);
  });

  it('records a step whose planning throws as failed and never throws out of the engine', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(twoSteps('continue')),
      registry: failing(journal, 'throw'),
      services: {},
      mode: 'enforce',
    });

    const report = await engine.handle(credentialExfiltration());

    expect(report.steps[0]).toMatchObject({
      status: 'failed',
      error: { code: 'PLAN_FAILED', message: 'planning keep-evidence exploded' },
    });
    expect(report.steps[1]?.status).toBe('applied');
  });
});

describe('engine scope and blast radius', () => {
  it('refuses targets beyond limits.maxTargets', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(`
name: buckets
match: { types: ["Exfiltration:S3/*"] }
actions: [{ action: lock-bucket }]
limits: { maxTargets: 2 }
`),
      registry: registryOf([probeAction('lock-bucket', journal, { phase: 'contain', kind: 's3-bucket' })]),
      services: {},
      mode: 'enforce',
    });

    const report = await engine.handle(threeBucketFinding());

    expect(report.steps.map((step) => [step.target?.id, step.status])).toEqual([
      ['exports-a', 'applied'],
      ['exports-b', 'applied'],
      ['exports-c', 'refused'],
    ]);
    expect(report.steps[2]?.reason).toContain('limits.maxTargets is 2');
    expect(journal.entries).not.toContain('start lock-bucket exports-c');
  });

  it('refuses a target the finding does not name', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(`
name: overreach
match: { types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"] }
actions: [{ action: contain-everything }]
`),
      registry: registryOf([
        probeAction('contain-everything', journal, {
          phase: 'contain',
          kind: 'instance',
          foreignTarget: true,
        }),
      ]),
      services: {},
      mode: 'enforce',
    });

    const report = await engine.handle(credentialExfiltration());

    expect(report.steps.map((step) => [step.target?.id, step.status])).toEqual([
      ['i-0a1b2c3d4e5f67890', 'applied'],
      ['i-0000000000000dead', 'refused'],
    ]);
    expect(report.steps[1]?.reason).toMatch(
      /out of scope: the finding names no instance "i-0000000000000dead"/,
    );
    expect(journal.entries.some((entry) => entry.includes('i-0000000000000dead'))).toBe(false);
  });

  it('plans a no-op with the reason when the finding names nothing the action acts on', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(`
name: buckets-on-ec2
match: { types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"] }
actions: [{ action: lock-bucket }]
`),
      registry: registryOf([probeAction('lock-bucket', journal, { phase: 'contain', kind: 's3-bucket' })]),
      services: {},
      mode: 'enforce',
    });

    const report = await engine.handle(credentialExfiltration());

    expect(report.steps).toMatchObject([{ status: 'no-op', reason: 'the finding names no s3-bucket' }]);
    expect(report.outcome).toBe('nothing-to-do');
  });
});

describe('engine configuration and selection', () => {
  it('refuses an unknown action at load, naming the known ones and the location', () => {
    const registry = standardRegistry(newJournal());
    const playbooks = playbook(`
name: typo
match: { types: ["Backdoor:EC2/*"] }
actions:
  - action: detach-everything
`);

    const build = () => createEngine({ playbooks, registry, services: {} });

    expect(build).toThrow(ActionConfigurationError);
    expect(build).toThrow(
      /engine-test\.yaml:5:\d+ .*unknown action "detach-everything"; known actions: keep-evidence/,
    );
  });

  it('lets a fallback playbook match only when nothing else does', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(`
name: specific
match: { types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"] }
actions: [{ action: tell-team }]
---
name: catch-all
fallback: true
match: { types: ["**"] }
actions: [{ action: tell-team }]
`),
      registry: standardRegistry(journal),
      services: {},
    });

    const specific = await engine.plan(credentialExfiltration());
    const other = await engine.plan(scenario('04-root-credential-usage.json'));

    expect(specific.matches.map((match) => match.playbook)).toEqual(['specific']);
    expect(other.matches.map((match) => match.playbook)).toEqual(['catch-all']);
  });

  it('plans only the playbooks the include option keeps', async () => {
    const engine = createEngine({
      playbooks: playbook(`
name: first
match: { types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"] }
actions: [{ action: tell-team }]
---
name: second
rerunOnUpdate: true
match: { types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"] }
actions: [{ action: tell-team }]
`),
      registry: standardRegistry(newJournal()),
      services: {},
    });

    const plan = await engine.plan(credentialExfiltration(), {
      include: (candidate) => candidate.rerunOnUpdate,
    });

    expect(plan.matches.map((match) => match.playbook)).toEqual(['second']);
    expect(plan.steps.map((step) => step.key)).toEqual(['second/tell-team']);
  });

  it('reports no-match when no playbook matches', async () => {
    const engine = createEngine({
      playbooks: playbook(RESPONSE),
      registry: standardRegistry(newJournal()),
      services: {},
    });

    const report = await engine.handle(scenario('04-root-credential-usage.json'));

    expect(report).toMatchObject({ outcome: 'no-match', matched: [], steps: [] });
  });
});

describe('engine mutation gate', () => {
  it('holds an enforced step the gate refuses, runs the rest, and reports the reason', async () => {
    const journal = newJournal();
    const asked: string[] = [];
    const engine = createEngine({
      playbooks: playbook(RESPONSE),
      registry: standardRegistry(journal),
      services: {},
      mode: 'enforce',
      gate: {
        admit: async ({ target, action }) => {
          asked.push(`${action} ${target.id}`);
          return action === 'contain-instance'
            ? { admitted: false, reason: 'circuit breaker: 50 targets changed in the last hour' }
            : { admitted: true };
        },
      },
    });

    const report = await engine.handle(credentialExfiltration());

    const contain = report.steps.find((step) => step.action === 'contain-instance');
    expect(contain).toMatchObject({
      status: 'held',
      reason: 'circuit breaker: 50 targets changed in the last hour',
    });
    expect(journal.entries).not.toContain('start contain-instance i-0a1b2c3d4e5f67890');
    expect(journal.entries).toContain('start tell-team 7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01');
    expect(report.outcome).toBe('partial');
    expect(asked).toContain('contain-instance i-0a1b2c3d4e5f67890');
  });

  it('holds the step, failing closed, when the gate cannot decide', async () => {
    const journal = newJournal();
    const engine = createEngine({
      playbooks: playbook(RESPONSE),
      registry: standardRegistry(journal),
      services: {},
      mode: 'enforce',
      gate: {
        admit: async () => {
          throw new Error('ProvisionedThroughputExceededException');
        },
      },
    });

    const report = await engine.handle(credentialExfiltration());

    expect(report.steps.every((step) => step.status === 'held')).toBe(true);
    expect(report.outcome).toBe('held');
    expect(report.steps[0]?.reason).toMatch(/could not decide \(ProvisionedThroughputExceededException\)/);
    expect(journal.entries.filter((entry) => entry.startsWith('start'))).toEqual([]);
  });

  it('never asks the gate in dry-run', async () => {
    let asked = 0;
    const engine = createEngine({
      playbooks: playbook(RESPONSE),
      registry: standardRegistry(newJournal()),
      services: {},
      gate: {
        admit: async () => {
          asked += 1;
          return { admitted: true };
        },
      },
    });

    await engine.handle(credentialExfiltration());

    expect(asked).toBe(0);
  });
});

describe('engine response state', () => {
  /** Wraps a probe so it hands over the response state each of its calls gets. */
  const observing = (
    name: string,
    phase: 'preserve' | 'contain',
    seen: { step: string; call: 'plan' | 'execute'; shared: ResponseState | undefined }[],
  ) => {
    const probe = probeAction(name, newJournal(), { phase, kind: 'instance' });
    return {
      ...probe,
      plan: async (ctx: ActionContext) => {
        seen.push({ step: name, call: 'plan', shared: ctx.shared });
        return probe.plan(ctx);
      },
      execute: async (ctx: ActionContext, plan: ActionPlan) => {
        seen.push({ step: name, call: 'execute', shared: ctx.shared });
        return probe.execute(ctx, plan);
      },
    };
  };

  const TWO_STEPS = `
name: respond
match: { types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"] }
actions:
  - action: keep-evidence
  - action: contain-instance
`;

  const engineSeeing = (seen: Parameters<typeof observing>[2]) =>
    createEngine({
      playbooks: playbook(TWO_STEPS),
      registry: registryOf([
        observing('keep-evidence', 'preserve', seen),
        observing('contain-instance', 'contain', seen),
      ]),
      services: {},
      mode: 'enforce',
    });

  it('hands one state to the plan and execute of every step of a response, and a new one to the next', async () => {
    const seen: Parameters<typeof observing>[2] = [];
    const engine = engineSeeing(seen);

    await engine.handle(credentialExfiltration());
    await engine.handle(credentialExfiltration());

    expect(seen).toHaveLength(8);
    const [first, second] = [seen.slice(0, 4), seen.slice(4)];
    for (const response of [first, second]) {
      expect(response[0]?.shared).toBeDefined();
      for (const call of response) expect(call.shared).toBe(response[0]?.shared);
    }
    expect(second[0]?.shared).not.toBe(first[0]?.shared);
  });

  it('logs the mutating calls each finished step sent, for the steps after it', async () => {
    const seen: Parameters<typeof observing>[2] = [];
    const engine = engineSeeing(seen);

    await engine.handle(credentialExfiltration());

    const containing = seen.find((call) => call.step === 'contain-instance' && call.call === 'execute');
    // When containment starts, the evidence step has finished and its calls are in the log.
    expect(containing?.shared?.mutations.map((call) => `${call.service} ${call.operation}`)).toEqual([
      'EC2 CreateTags',
      'EC2 CreateTags',
    ]);
  });

  it('keeps the state out of the plan, which serialises as before', async () => {
    const seen: Parameters<typeof observing>[2] = [];
    const engine = engineSeeing(seen);

    const plan = await engine.plan(credentialExfiltration());

    expect(JSON.stringify(plan)).not.toContain('mutations');
    expect(Object.keys(plan).sort()).toEqual(['finding', 'matches', 'mode', 'plannedAt', 'steps']);
  });

  it('starts a state of its own for a plan it did not make (read back, or copied)', async () => {
    const seen: Parameters<typeof observing>[2] = [];
    const engine = engineSeeing(seen);
    const plan = await engine.plan(credentialExfiltration());

    await engine.execute(JSON.parse(JSON.stringify(plan)));

    const planned = seen.find((call) => call.call === 'plan')?.shared;
    const executed = seen.filter((call) => call.call === 'execute').map((call) => call.shared);
    expect(executed).toHaveLength(2);
    expect(executed[0]).toBeDefined();
    expect(executed[0]).not.toBe(planned);
    expect(executed[1]).toBe(executed[0]);
  });
});
