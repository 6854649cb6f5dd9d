import { readFileSync } from 'node:fs';
import {
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  type ActionInverse,
  executeUndo,
  hasInverse,
  type PermissionGrant,
  planUndo,
  type StepReport,
  severityLabel,
  type UndoState,
} from '@riposte/core';
import { Ajv } from 'ajv';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { blockS3PublicAccess } from '../../src/actions/block-s3-public-access.js';
import { notify } from '../../src/actions/notify.js';
import { builtinActions } from '../../src/builtin.js';
import { type AwsServices, createAwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { contextFor, NOW } from '../helpers/context.js';
import { ACCOUNT, BUCKET, REGION, s3Exfiltration } from '../helpers/findings.js';
import {
  type CatalogAction,
  catalogAction,
  conditionKeyListed,
  conditionKeys,
  typesFitting,
  typesReached,
  unknownPlaceholders,
  wildcardProblem,
} from '../helpers/iam-catalog.js';

/**
 * Meta-tests of how every built-in action is undone: each one that changes something declares its
 * inverse, or why it has none; each inverse's recorded state is a closed schema that compiles under
 * ajv strict mode (history is read back from a table, so the schema is what stands between a forged
 * record and an AWS call); and its IAM permissions are real, granted exactly, and no wider than IAM
 * allows, as the actions' own grants are (grants.test.ts). The undo role is made of these grants.
 */

type Action = (typeof builtinActions)[number];
type Inverse = ActionInverse<UndoState, AwsServices>;

const iamActions = new Set(
  readFileSync(new URL('../fixtures/iam-actions.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean),
);

const byName = builtinActions.map((action) => [action.name, action] as const);

/** The built-ins that change something: every phase but `notify` (whose steps only tell people). */
const changing = byName.filter(([, action]) => action.phase !== 'notify');

const inverses = builtinActions.flatMap((action): [string, Inverse][] =>
  hasInverse(action.undo) ? [[action.name, action.undo]] : [],
);

const withoutInverse = builtinActions.flatMap((action): [string, string][] =>
  action.undo !== undefined && !hasInverse(action.undo) ? [[action.name, action.undo.none]] : [],
);

const catalog = new Map<string, Promise<CatalogAction | undefined>>();
const lookUp = (name: string): Promise<CatalogAction | undefined> => {
  const known = catalog.get(name) ?? catalogAction(name);
  catalog.set(name, known);
  return known;
};

/** The catalog entry of an action a grant names, which the permissions test proves exists. */
const entry = async (name: string): Promise<CatalogAction> => {
  const found = await lookUp(name);
  if (!found) throw new Error(`${name} is not in the IAM catalog`);
  return found;
};

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every place of a state schema where data is admitted (the root, each property, array items, each
 * branch of a `oneOf` / `anyOf`), with its JSON pointer into the schema. `allOf`, `if`, `then`, `else`
 * and `not` only narrow what those places admit, so a closed shape may be refined there without
 * repeating itself.
 */
const admittingPlaces = (schema: unknown, at = '#'): [string, unknown][] => {
  if (!isSchema(schema)) return [[at, schema]];
  const nested: [string, unknown][] = [
    ...Object.entries(isSchema(schema.properties) ? schema.properties : {}).map(
      ([name, value]): [string, unknown] => [`${at}/properties/${name}`, value],
    ),
    ...(schema.items === undefined ? [] : [[`${at}/items`, schema.items] as [string, unknown]]),
    ...(['oneOf', 'anyOf'] as const).flatMap((keyword) =>
      (Array.isArray(schema[keyword]) ? (schema[keyword] as unknown[]) : []).map(
        (value, index): [string, unknown] => [`${at}/${keyword}/${index}`, value],
      ),
    ),
  ];
  return [[at, schema], ...nested.flatMap(([where, value]) => admittingPlaces(value, where))];
};

/** Why a place of a state schema admits more than it names, or `undefined`. */
const openness = (schema: unknown): string | undefined => {
  if (!isSchema(schema)) return 'admits any value';
  const types = [schema.type].flat();
  const constrained = ['type', 'const', 'enum', 'oneOf', 'anyOf', '$ref'].some((key) => key in schema);
  if (!constrained) return 'admits any value';
  if (types.includes('object') && schema.additionalProperties !== false) {
    return 'is an object without additionalProperties: false';
  }
  if (types.includes('array') && !isSchema(schema.items)) return 'is an array without one items schema';
  return undefined;
};

describe('built-in undo (meta)', () => {
  it.each(changing)('%s declares how a step of it is undone, or why it cannot be', (_name, action) => {
    expect(action.undo).toBeDefined();
  });

  it.each(withoutInverse)('%s says why it has no inverse, in words', (_name, reason) => {
    expect(reason.trim().length).toBeGreaterThan(20);
    expect(reason).not.toMatch(/\n/);
  });

  it('has inverses to check', () => {
    expect(inverses.length).toBeGreaterThan(0);
  });

  it.each(inverses)('%s: says in a sentence what undoing restores', (_name, inverse) => {
    expect(inverse.summary.length).toBeGreaterThan(40);
    expect(inverse.summary).not.toMatch(/\n/);
  });

  it.each(inverses)('%s: its state schema compiles under ajv strict mode', (_name, inverse) => {
    expect(() => new Ajv({ strict: true, allErrors: true }).compile(inverse.stateSchema)).not.toThrow();
  });

  it.each(inverses)('%s: its state schema admits nothing it does not name', (_name, inverse) => {
    const open = admittingPlaces(inverse.stateSchema).flatMap(([at, schema]) => {
      const problem = openness(schema);
      return problem === undefined ? [] : [`${at} ${problem}`];
    });

    expect(inverse.stateSchema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(open).toEqual([]);
  });

  it.each(inverses)('%s: refuses an empty or foreign recorded state', (_name, inverse) => {
    const validate = new Ajv({ strict: true, allErrors: true }).compile(inverse.stateSchema);

    expect(validate({})).toBe(false);
    expect(validate(null)).toBe(false);
    expect(validate('{}')).toBe(false);
  });

  it.each(inverses)('%s: the registry compiles its state schema', (name) => {
    const action = builtinActions.find((item) => item.name === name) as Action;
    const problems = createRegistry([action]).validateUndoState(name, {});

    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((problem) => problem.message)).not.toContain(`action "${name}" has no inverse`);
  });

  it.each(inverses)(
    '%s: declares only real IAM actions, as the checked-in list and the IAM catalog spell them',
    async (_name, inverse) => {
      const unknown: string[] = [];
      for (const permission of inverse.permissions) {
        if ((await lookUp(permission)) === undefined) unknown.push(permission);
      }

      expect(inverse.permissions.length).toBeGreaterThan(0);
      expect(inverse.permissions.filter((permission) => !iamActions.has(permission))).toEqual([]);
      expect(unknown).toEqual([]);
    },
  );

  it.each(inverses)('%s: its grants cover exactly its permissions', (_name, inverse) => {
    const granted = inverse.grants().flatMap((grant) => grant.actions);

    expect([...new Set(granted)].sort()).toEqual([...new Set(inverse.permissions)].sort());
  });

  it.each(inverses)('%s: every grant names actions and resources, each once', (_name, inverse) => {
    for (const grant of inverse.grants()) {
      expect([grant.actions.length > 0, grant.resources.length > 0]).toEqual([true, true]);
      expect([new Set(grant.actions).size, new Set(grant.resources).size]).toEqual([
        grant.actions.length,
        grant.resources.length,
      ]);
    }
  });

  it.each(inverses)('%s: uses only the placeholders of the grant contract', (_name, inverse) => {
    const unknown = inverse.grants().flatMap((grant) => grant.resources.flatMap(unknownPlaceholders));

    expect(unknown).toEqual([]);
  });

  it.each(inverses)(
    '%s: uses * alone only for actions IAM authorises on no resource type',
    async (_name, inverse) => {
      const problems: string[] = [];
      for (const grant of inverse.grants()) {
        const star = grant.resources.includes('*');
        if (star && grant.resources.length > 1) problems.push('* together with other resources');
        for (const name of grant.actions) {
          const wildcardOnly = (await entry(name)).resourceTypes.length === 0;
          if (star && !wildcardOnly) problems.push(`${name} on * supports resource types`);
          if (!star && wildcardOnly) problems.push(`${name} supports no resource type, so only *`);
        }
      }

      expect(problems).toEqual([]);
    },
  );

  it.each(inverses)('%s: no wildcard but a whole region or a whole resource name', (_name, inverse) => {
    const problems = inverse.grants().flatMap((grant: PermissionGrant) => [
      ...grant.actions.filter((name) => /[*?]/.test(name)).map((name) => `action ${name}`),
      ...grant.resources
        .filter((resource) => resource !== '*')
        .flatMap((resource) => {
          const problem = wildcardProblem(resource);
          return problem ? [`${resource} ${problem}`] : [];
        }),
    ]);

    expect(problems).toEqual([]);
  });

  it.each(inverses)(
    '%s: each resource fits a resource type of each action of its grant, and reaches no other',
    async (_name, inverse) => {
      const problems: string[] = [];
      for (const grant of inverse.grants()) {
        if (grant.resources.includes('*')) continue;
        for (const name of grant.actions) {
          const known = await entry(name);
          for (const resource of grant.resources) {
            const fitting = typesFitting(resource, known);
            if (fitting.length === 0) problems.push(`${resource} fits no resource type of ${name}`);
            const reached = typesReached(resource, known, fitting);
            if (reached.length > 0)
              problems.push(`${resource} also reaches ${reached.join(', ')} of ${name}`);
          }
        }
      }

      expect(problems).toEqual([]);
    },
  );

  it.each(inverses)(
    '%s: every resource type an action requires is granted with it',
    async (_name, inverse) => {
      const grants = inverse.grants();
      const problems: string[] = [];
      for (const name of new Set(grants.flatMap((grant) => grant.actions))) {
        const known = await entry(name);
        const covered = new Set(
          grants
            .filter((grant) => grant.actions.includes(name))
            .flatMap((grant) => grant.resources)
            .flatMap((resource) => typesFitting(resource, known))
            .map((type) => type.name),
        );
        for (const type of known.resourceTypes.filter((item) => item.required && !covered.has(item.name))) {
          problems.push(`${name} requires ${type.name}`);
        }
      }

      expect(problems).toEqual([]);
    },
  );

  it.each(inverses)(
    '%s: every condition key is one IAM lists for each action of its grant',
    async (_name, inverse) => {
      const problems: string[] = [];
      for (const grant of inverse.grants()) {
        for (const name of grant.actions) {
          const known = await entry(name);
          const types = grant.resources.flatMap((resource) => typesFitting(resource, known));
          for (const key of conditionKeys(grant)) {
            if (!conditionKeyListed(key, known, types)) problems.push(`${key} for ${name}`);
          }
        }
      }

      expect(problems).toEqual([]);
    },
  );
});

describe('the meta-test of state schemas', () => {
  it('finds an open object, a value of any kind and an array of anything, wherever they admit data', () => {
    const schema = {
      type: 'object',
      additionalProperties: false,
      properties: {
        tags: { type: 'object' },
        anything: {},
        list: { type: 'array' },
        either: {
          oneOf: [
            { type: 'string', const: 'none' },
            { type: 'object', properties: {} },
          ],
        },
      },
      allOf: [
        {
          if: { properties: { tags: { const: 1 } } },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then
          then: { properties: { list: true } },
        },
      ],
    };

    const open = admittingPlaces(schema).flatMap(([at, item]) => {
      const problem = openness(item);
      return problem === undefined ? [] : [`${at} ${problem}`];
    });

    expect(open).toEqual([
      '#/properties/tags is an object without additionalProperties: false',
      '#/properties/anything admits any value',
      '#/properties/list is an array without one items schema',
      '#/properties/either/oneOf/1 is an object without additionalProperties: false',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The engine's undo, with a built-in inverse: what a step recorded is what the inverse restores
// ---------------------------------------------------------------------------------------------

const s3 = mockClient(S3Client);

beforeEach(() => s3.reset());
afterAll(() => s3.restore());

const noBlock = () =>
  new S3ServiceException({
    name: 'NoSuchPublicAccessBlockConfiguration',
    $fault: 'client',
    $metadata: { httpStatusCode: 404 },
    message: 'The public access block configuration was not found',
  });

/** A bucket whose public access block changes as the calls made to it say; none at first. */
const bucketWithoutBlock = () => {
  let config: object | undefined;
  s3.on(GetPublicAccessBlockCommand).callsFake(() => {
    if (config === undefined) throw noBlock();
    return { PublicAccessBlockConfiguration: config };
  });
  s3.on(PutPublicAccessBlockCommand).callsFake((input: { PublicAccessBlockConfiguration: object }) => {
    config = input.PublicAccessBlockConfiguration;
    return {};
  });
  s3.on(DeletePublicAccessBlockCommand).callsFake(() => {
    config = undefined;
    return {};
  });
  return { now: () => config };
};

describe('undoing a recorded response with the built-in inverses', () => {
  const registry = createRegistry([blockS3PublicAccess, notify]);
  const finding = s3Exfiltration();
  const subject = {
    findingId: finding.id,
    findingType: finding.type.name,
    severity: finding.severity,
    severityLabel: severityLabel(finding.severity),
    accountId: ACCOUNT,
    region: REGION,
  };
  const services = createAwsServices({ env: {} });
  const options = { registry, servicesFor: () => services, clock: () => NOW };

  /** The steps an enforced response recorded: the bucket blocked, then a notification sent. */
  const respond = async (): Promise<StepReport[]> => {
    const ctx = contextFor(blockS3PublicAccess, finding, { services });
    const outcome = await blockS3PublicAccess.execute(ctx, await blockS3PublicAccess.plan(ctx));
    const step = (stepId: string, action: string, phase: StepReport['phase']) => ({
      key: `s3-public:${stepId}`,
      playbook: 's3-public',
      stepId,
      action,
      phase,
      mode: 'enforce' as const,
      lookups: [],
      durationMs: 0,
    });
    return [
      {
        ...step('block', 'block-s3-public-access', 'contain'),
        target: { kind: ctx.target.kind, id: ctx.target.id, label: ctx.target.label },
        status: 'applied',
        calls: outcome.calls,
        ...(outcome.undo ? { undo: { target: ctx.target, state: outcome.undo } } : {}),
      },
      { ...step('notify', 'notify', 'notify'), status: 'applied', calls: [] },
    ];
  };

  it('plans the inverse from the recorded state, newest first, and says why a notification stays', async () => {
    bucketWithoutBlock();
    const recorded = await respond();

    const plan = await planUndo(subject, recorded, options);

    expect(plan.steps.map((step) => [step.action, step.plan.status, step.plan.reason])).toEqual([
      ['notify', 'no-op', 'not undone: a notification cannot be unsent'],
      ['block-s3-public-access', 'planned', undefined],
    ]);
    expect(plan.steps[1]?.plan.calls).toEqual([
      {
        service: 'S3',
        operation: 'DeletePublicAccessBlock',
        input: { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT },
        mutating: true,
      },
    ]);
  });

  it('restores the bucket when enforced, and finds nothing left to do the second time', async () => {
    const bucket = bucketWithoutBlock();
    const recorded = await respond();
    const enforce = { ...options, mode: 'enforce' as const };

    const first = await executeUndo(await planUndo(subject, recorded, enforce), recorded, enforce);
    const again = await planUndo(subject, recorded, enforce);

    expect(first.steps.map((step) => [step.action, step.status])).toEqual([
      ['notify', 'no-op'],
      ['block-s3-public-access', 'applied'],
    ]);
    expect(bucket.now()).toBeUndefined();
    expect(s3.commandCalls(DeletePublicAccessBlockCommand)).toHaveLength(1);
    expect(again.steps[1]?.plan).toMatchObject({ status: 'no-op' });
  });

  it('refuses a forged record before any call', async () => {
    bucketWithoutBlock();
    const recorded = await respond().then((steps) =>
      steps.map((step) =>
        step.undo ? { ...step, undo: { ...step.undo, state: { bucket: '*', previous: 'none' } } } : step,
      ),
    );
    s3.reset();

    const plan = await planUndo(subject, recorded, options);

    expect(plan.steps[1]?.plan.status).toBe('refused');
    expect(plan.steps[1]?.plan.reason).toMatch(/^the recorded state is not valid \(\/bucket /);
    expect(s3.calls()).toHaveLength(0);
  });
});
