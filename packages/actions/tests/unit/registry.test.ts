import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ActionDefinition, EngineConfigurationError, PHASE_ORDER } from '@riposte/core';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { snapshotVolumes } from '../../src/actions/snapshot-volumes.js';
import { builtinActions } from '../../src/builtin.js';
import type { AwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { catalogAction } from '../helpers/iam-catalog.js';

const actionsDir = fileURLToPath(new URL('../../src/actions/', import.meta.url));
const testsDir = fileURLToPath(new URL('./', import.meta.url));
const iamActions = new Set(
  readFileSync(new URL('../fixtures/iam-actions.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean),
);
const files = readdirSync(actionsDir)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.replace(/\.ts$/, ''))
  .sort();

/** A valid action to vary in the refusal tests. */
const custom = (
  overrides: Partial<ActionDefinition<Record<string, unknown>, AwsServices>> = {},
): ActionDefinition<Record<string, unknown>, AwsServices> => ({
  ...snapshotVolumes,
  name: 'quarantine-lambda',
  ...overrides,
});

describe('built-in actions (meta)', () => {
  it('has one action per file in src/actions, named after the file', () => {
    expect(builtinActions.map((action) => action.name).sort()).toEqual(files);
  });

  it.each(files)('%s is exported by its own file under its own name', async (file) => {
    const module = (await import(`../../src/actions/${file}.ts`)) as Record<string, unknown>;
    const actions = Object.values(module).filter(
      (value): value is ActionDefinition => typeof value === 'object' && value !== null && 'plan' in value,
    );

    expect(actions.map((action) => action.name)).toEqual([file]);
  });

  it.each(builtinActions.map((action) => [action.name, action] as const))(
    '%s has a unit test file',
    (name) => {
      expect(existsSync(`${testsDir}${name}.test.ts`)).toBe(true);
    },
  );

  it.each(builtinActions.map((action) => [action.name, action] as const))(
    '%s has a kebab-case name and complete documentation',
    (name, action) => {
      expect(name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      expect(PHASE_ORDER).toContain(action.phase);
      expect(action.summary.length).toBeGreaterThan(20);
      expect(action.idempotency.length).toBeGreaterThan(20);
      expect(action.dryRun?.length ?? 0).toBeGreaterThan(20);
      expect(action.resourceKinds.length).toBeGreaterThan(0);
      expect(action.example.split('\n')[0]).toBe(`- action: ${name}`);
    },
  );

  it.each(builtinActions.map((action) => [action.name, action] as const))(
    '%s has a closed params schema that compiles under ajv strict mode',
    (_name, action) => {
      expect(action.paramsSchema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(() => new Ajv({ strict: true }).compile(action.paramsSchema)).not.toThrow();
    },
  );

  it.each(builtinActions.map((action) => [action.name, action] as const))(
    '%s declares only real IAM actions, as the checked-in list and the IAM catalog spell them',
    async (_name, action) => {
      expect(action.permissions.length).toBeGreaterThan(0);
      expect(action.permissions.filter((permission) => !iamActions.has(permission))).toEqual([]);
      const unknown: string[] = [];
      for (const permission of action.permissions) {
        if ((await catalogAction(permission)) === undefined) unknown.push(permission);
      }
      expect(unknown).toEqual([]);
    },
  );

  it('keeps a checked-in list of IAM actions that the IAM catalog holds, as spelt', async () => {
    const unknown: string[] = [];
    for (const name of iamActions) if ((await catalogAction(name)) === undefined) unknown.push(name);

    expect(unknown).toEqual([]);
  });

  it.each(builtinActions.map((action) => [action.name, action] as const))(
    '%s declares grants for no params and for each documented example',
    (_name, action) => {
      expect(typeof action.grants).toBe('function');
      for (const params of [{}, ...(action.paramExamples ?? [])]) {
        expect(action.grants(params).length).toBeGreaterThan(0);
      }
    },
  );

  it('lists the built-ins in response order', () => {
    const order = builtinActions.map((action) => PHASE_ORDER.indexOf(action.phase));

    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});

describe('createRegistry', () => {
  it('registers the built-ins by default', () => {
    const registry = createRegistry();

    expect(registry.list().map((action) => action.name)).toEqual(builtinActions.map((action) => action.name));
    expect(registry.get('detach-instance-profile')?.phase).toBe('contain');
    expect(registry.get('no-such-action')).toBeUndefined();
  });

  it('registers a custom action next to the built-ins', () => {
    const registry = createRegistry();

    registry.register(custom());

    expect(registry.get('quarantine-lambda')?.name).toBe('quarantine-lambda');
  });

  it('refuses a duplicate name', () => {
    const registry = createRegistry();

    expect(() => registry.register(custom({ name: 'notify' }))).toThrow(EngineConfigurationError);
    expect(() => registry.register(custom({ name: 'notify' }))).toThrow('already registered');
  });

  it('refuses a name that is not kebab-case', () => {
    expect(() => createRegistry([custom({ name: 'quarantineLambda' })])).toThrow('kebab-case');
  });

  it('refuses an action without permissions, or with a malformed one', () => {
    expect(() => createRegistry([custom({ permissions: [] })])).toThrow('declares no IAM permissions');
    expect(() => createRegistry([custom({ permissions: ['lambda PutFunctionConcurrency'] })])).toThrow(
      'permissions must be IAM actions',
    );
  });

  it('refuses an action without grants, as one written in plain JavaScript may be', () => {
    const { grants: _grants, ...withoutGrants } = custom();

    expect(() =>
      createRegistry([withoutGrants as ActionDefinition<Record<string, unknown>, AwsServices>]),
    ).toThrow('it declares no grants(params)');
  });

  it('refuses a params schema that does not compile under strict mode', () => {
    const schema = {
      type: 'object',
      additionalProperties: false,
      properties: { limit: { type: 'integer', minimun: 1 } },
    };

    expect(() => createRegistry([custom({ paramsSchema: schema })])).toThrow(EngineConfigurationError);
    expect(() => createRegistry([custom({ paramsSchema: schema })])).toThrow('does not compile');
  });

  it('refuses a params schema that is not an object schema', () => {
    expect(() => createRegistry([custom({ paramsSchema: { type: 'string' } })])).toThrow('type "object"');
  });

  it('carries the action name in the error details', () => {
    try {
      createRegistry([custom({ permissions: [] })]);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: 'ENGINE_CONFIG_INVALID',
        details: { action: 'quarantine-lambda' },
      });
    }
  });
});

describe('validateParams', () => {
  const registry = createRegistry();

  it('accepts valid params and missing params', () => {
    expect(
      registry.validateParams('detach-instance-profile', {
        quarantineProfile: 'quarantine',
        quarantineRole: 'quarantine-role',
      }),
    ).toEqual([]);
    expect(registry.validateParams('notify', undefined)).toEqual([]);
  });

  it('refuses a quarantine profile without its role, and a role without a profile', () => {
    expect(registry.validateParams('detach-instance-profile', { quarantineProfile: 'quarantine' })).toEqual([
      {
        pointer: '',
        message: 'must have property quarantineRole when property quarantineProfile is present',
      },
    ]);
    expect(registry.validateParams('detach-instance-profile', { quarantineRole: 'quarantine-role' })).toEqual(
      [
        {
          pointer: '',
          message: 'must have property quarantineProfile when property quarantineRole is present',
        },
      ],
    );
  });

  it('points at an unknown param', () => {
    expect(registry.validateParams('detach-instance-profile', { quarantine: 'x' })).toEqual([
      { pointer: '/quarantine', message: 'is not a known param' },
    ]);
  });

  it('points at a param of the wrong type', () => {
    expect(registry.validateParams('isolate-instance', { includeCredentialSource: 'yes' })).toEqual([
      { pointer: '/includeCredentialSource', message: 'must be boolean' },
    ]);
  });

  it('points inside nested params', () => {
    const problems = registry.validateParams('tag-resource', { tags: { 'aws:owner': 'me', ok: 'fine!' } });

    expect(problems.map((problem) => problem.pointer)).toEqual(
      expect.arrayContaining(['/tags/aws:owner', '/tags/ok']),
    );
  });

  it('reports an unknown action instead of throwing', () => {
    expect(registry.validateParams('reboot-instance', {})).toEqual([
      { pointer: '', message: 'unknown action "reboot-instance"' },
    ]);
  });
});

describe('validateUndoState', () => {
  const registry = createRegistry();
  const recorded = {
    bucket: 'acme-customer-exports',
    previous: {
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    },
  };

  it('accepts a state as the step recorded it', () => {
    expect(registry.validateUndoState('block-s3-public-access', recorded)).toEqual([]);
    expect(registry.validateUndoState('block-s3-public-access', { ...recorded, previous: 'none' })).toEqual(
      [],
    );
  });

  it('points at what is wrong in a state read back from history', () => {
    expect(registry.validateUndoState('block-s3-public-access', { ...recorded, bucket: 'acme-*' })).toEqual([
      { pointer: '/bucket', message: 'must match pattern "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"' },
    ]);
    expect(
      registry.validateUndoState('deactivate-access-key', {
        userName: 'ci-deployer',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      }),
    ).toEqual([{ pointer: '/previousStatus', message: 'is missing from the recorded state' }]);
    expect(
      registry.validateUndoState('deactivate-access-key', {
        userName: 'ci-deployer',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        previousStatus: 'Active',
        status: 'Active',
      }),
    ).toEqual([{ pointer: '/status', message: 'is not a field of the recorded state' }]);
  });

  it('refuses what is not an object at all', () => {
    expect(registry.validateUndoState('block-s3-public-access', 'acme-customer-exports')).toEqual([
      { pointer: '', message: 'must be object' },
    ]);
  });

  it('says that an action without an inverse has none, whatever the state', () => {
    expect(registry.validateUndoState('notify', {})).toEqual([
      { pointer: '', message: 'action "notify" has no inverse' },
    ]);
    expect(registry.validateUndoState('snapshot-volumes', { snapshotIds: [] })).toEqual([
      { pointer: '', message: 'action "snapshot-volumes" has no inverse' },
    ]);
  });

  it('says the same of a custom action that declares none, and of an unknown action', () => {
    const withoutUndo = createRegistry([custom({ undo: undefined })]);

    expect(withoutUndo.validateUndoState('quarantine-lambda', {})).toEqual([
      { pointer: '', message: 'action "quarantine-lambda" has no inverse' },
    ]);
    expect(registry.validateUndoState('reboot-instance', {})).toEqual([
      { pointer: '', message: 'action "reboot-instance" has no inverse' },
    ]);
  });

  it("validates a custom action's recorded state with the schema it declares", () => {
    const inverse = {
      summary: 'Deletes the concurrency limit the step put on the function.',
      stateSchema: {
        type: 'object',
        additionalProperties: false,
        properties: { functionName: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
        required: ['functionName'],
      },
      permissions: ['lambda:DeleteFunctionConcurrency'],
      grants: () => [
        {
          actions: ['lambda:DeleteFunctionConcurrency'],
          resources: ['arn:{partition}:lambda:*:{account}:function:*'],
        },
      ],
      plan: snapshotVolumes.plan as never,
      execute: snapshotVolumes.execute as never,
    };
    const withUndo = createRegistry([custom({ undo: inverse })]);

    expect(withUndo.validateUndoState('quarantine-lambda', { functionName: 'billing-export' })).toEqual([]);
    expect(withUndo.validateUndoState('quarantine-lambda', { functionName: 'billing export' })).toEqual([
      { pointer: '/functionName', message: 'must match pattern "^[A-Za-z0-9_-]{1,64}$"' },
    ]);
  });
});

describe('createRegistry, inverses', () => {
  const inverse = {
    summary: 'Deletes the concurrency limit the step put on the function.',
    stateSchema: { type: 'object', additionalProperties: false, properties: {} },
    permissions: ['lambda:DeleteFunctionConcurrency'],
    grants: () => [],
    plan: snapshotVolumes.plan as never,
    execute: snapshotVolumes.execute as never,
  };

  it('refuses an inverse whose state schema does not compile under strict mode', () => {
    const stateSchema = { type: 'object', properties: { functionName: { type: 'string', patern: '.' } } };

    expect(() => createRegistry([custom({ undo: { ...inverse, stateSchema } })])).toThrow(
      "the inverse's state schema does not compile",
    );
  });

  it('refuses an inverse with malformed permissions, or without grants', () => {
    expect(() =>
      createRegistry([custom({ undo: { ...inverse, permissions: ['lambda DeleteFunctionConcurrency'] } })]),
    ).toThrow('the inverse must declare IAM permissions');
    const { grants: _grants, ...withoutGrants } = inverse;
    expect(() => createRegistry([custom({ undo: withoutGrants as never })])).toThrow(
      'the inverse declares no grants()',
    );
  });

  it('accepts an action that says why it has no inverse', () => {
    expect(() => createRegistry([custom({ undo: { none: 'a page cannot be unsent' } })])).not.toThrow();
  });
});
