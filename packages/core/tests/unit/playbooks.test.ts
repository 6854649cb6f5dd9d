import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { describe, expect, it, vi } from 'vitest';
import { RESOURCE_KINDS, SEVERITY_LABELS, type UserType } from '../../src/finding.js';
import { TECHNIQUE_ID } from '../../src/match/pattern.js';
import { DEFAULT_MAX_TARGETS, DEFAULT_PRIORITY } from '../../src/playbook.js';
import { loadPlaybooks, parsePlaybooks, playbookSchema } from '../../src/playbooks/index.js';

/** The YAML as written, without the opening newline and the indentation its lines share. */
const yaml = (strings: TemplateStringsArray): string => {
  const lines = strings.join('').split('\n').slice(1);
  if (lines.at(-1)?.trim() === '') lines.pop();
  const indent = Math.min(...lines.filter((line) => line.trim()).map((line) => line.search(/\S/)));
  return `${lines.map((line) => line.slice(indent)).join('\n')}\n`;
};

const fixtures = new URL('../fixtures/playbooks/rules/', import.meta.url).pathname;

describe('parsePlaybooks', () => {
  it('returns every field of a complete playbook, with the position of the playbook and each step', () => {
    const text = yaml`
      # yaml-language-server: $schema=../packages/core/src/playbooks/playbook.schema.json
      name: ec2-instance-credential-exfiltration
      description: Instance credentials used from outside AWS.
      enabled: false
      mode: enforce
      priority: 10
      rerunOnUpdate: true
      fallback: true
      match:
        types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*"]
        severity: { min: 7, max: 8.9 }
        resources: [instance]
        principals: [AssumedRole]
        techniques: [T1078, T1078.004]
        tactics: [TA0010, Impact]
        accounts: ["111122223333"]
        regions: [us-east-1]
        tags: { env: prod, team: [web, data] }
        sample: false
        archived: false
        conditions:
          all:
            - { fact: severity, operator: greaterThanInclusive, value: 8 }
            - not: { fact: actor, path: $.country, operator: in, value: [France] }
      exclude:
        - tags: { "riposte:exempt": "true" }
        - accounts: ["444455556666"]
      actions:
        - action: snapshot-instance-volumes
          id: snapshot
          params: { copyTags: true }
        - action: detach-instance-profile
          after: snapshot
          onError: stop
        - action: notify
          after: [snapshot, detach-instance-profile]
      limits:
        maxTargets: 2
    `;

    const playbooks = parsePlaybooks(text, 'rules/ec2.yaml');

    expect(playbooks).toEqual([
      {
        name: 'ec2-instance-credential-exfiltration',
        description: 'Instance credentials used from outside AWS.',
        enabled: false,
        mode: 'enforce',
        priority: 10,
        rerunOnUpdate: true,
        fallback: true,
        match: {
          types: ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*'],
          severity: { min: 7, max: 8.9 },
          resources: ['instance'],
          principals: ['AssumedRole'],
          techniques: ['T1078', 'T1078.004'],
          tactics: ['TA0010', 'TA0040'],
          accounts: ['111122223333'],
          regions: ['us-east-1'],
          tags: { env: 'prod', team: ['web', 'data'] },
          sample: false,
          archived: false,
          conditions: {
            all: [
              { fact: 'severity', operator: 'greaterThanInclusive', value: 8 },
              { not: { fact: 'actor', path: '$.country', operator: 'in', value: ['France'] } },
            ],
          },
        },
        exclude: [{ tags: { 'riposte:exempt': 'true' } }, { accounts: ['444455556666'] }],
        actions: [
          {
            id: 'snapshot',
            action: 'snapshot-instance-volumes',
            params: { copyTags: true },
            after: [],
            onError: 'continue',
            location: { file: 'rules/ec2.yaml', line: 29, column: 5, pointer: '/actions/0' },
          },
          {
            id: 'detach-instance-profile',
            action: 'detach-instance-profile',
            params: {},
            after: ['snapshot'],
            onError: 'stop',
            location: { file: 'rules/ec2.yaml', line: 32, column: 5, pointer: '/actions/1' },
          },
          {
            id: 'notify',
            action: 'notify',
            params: {},
            after: ['snapshot', 'detach-instance-profile'],
            onError: 'continue',
            location: { file: 'rules/ec2.yaml', line: 35, column: 5, pointer: '/actions/2' },
          },
        ],
        limits: { maxTargets: 2 },
        location: { file: 'rules/ec2.yaml', line: 2, column: 1, pointer: '' },
      },
    ]);
  });

  it('applies the defaults when only name, match and actions are given', () => {
    const text = yaml`
      name: root-credential-usage
      match:
        types: Policy:IAMUser/RootCredentialUsage
      actions:
        - action: notify
    `;

    const [playbook] = parsePlaybooks(text, 'rules/root.yaml');

    expect(playbook).toEqual({
      name: 'root-credential-usage',
      enabled: true,
      priority: DEFAULT_PRIORITY,
      rerunOnUpdate: false,
      match: { types: ['Policy:IAMUser/RootCredentialUsage'] },
      exclude: [],
      actions: [
        {
          id: 'notify',
          action: 'notify',
          params: {},
          after: [],
          onError: 'continue',
          location: { file: 'rules/root.yaml', line: 5, column: 5, pointer: '/actions/0' },
        },
      ],
      limits: { maxTargets: DEFAULT_MAX_TARGETS },
      location: { file: 'rules/root.yaml', line: 1, column: 1, pointer: '' },
    });
    expect(playbook).not.toHaveProperty('mode');
    expect(playbook).not.toHaveProperty('description');
    expect(playbook).not.toHaveProperty('fallback');
  });

  it.each([
    ['Low', 0],
    ['Medium', 4],
    ['High', 7],
    ['Critical', 9],
  ])('reads a bare severity label %s as a minimum of %d', (label, min) => {
    const text = `name: by-label\nmatch:\n  severity: ${label}\nactions:\n  - action: notify\n`;

    const [playbook] = parsePlaybooks(text, 'rules/label.yaml');

    expect(playbook?.match.severity).toEqual({ min });
  });

  it('keeps a list of severity labels as labels', () => {
    const text = yaml`
      name: by-labels
      match:
        severity: { labels: [High, Critical] }
      actions:
        - action: notify
    `;

    const [playbook] = parsePlaybooks(text, 'rules/labels.yaml');

    expect(playbook?.match.severity).toEqual({ labels: ['High', 'Critical'] });
  });

  it('turns a single exclude block into a one-entry list and resolves tactic names to ids', () => {
    const text = yaml`
      name: cloudtrail-logging-disabled
      match:
        tactics: [defense-evasion, Credential Access]
      exclude:
        sample: true
      actions:
        - action: notify
    `;

    const [playbook] = parsePlaybooks(text, 'rules/trail.yaml');

    expect(playbook?.match.tactics).toEqual(['TA0005', 'TA0006']);
    expect(playbook?.exclude).toEqual([{ sample: true }]);
  });

  it('names unnamed steps after their action, suffixing repeats and stepping around explicit ids', () => {
    const text = yaml`
      name: tag-twice
      match: { resources: [instance] }
      actions:
        - action: tag-resource
        - action: tag-resource
          id: tag-resource-2
        - action: tag-resource
        - action: notify
          after: [tag-resource, tag-resource-2, tag-resource-3]
    `;

    const [playbook] = parsePlaybooks(text, 'rules/tags.yaml');

    expect(playbook?.actions.map((step) => step.id)).toEqual([
      'tag-resource',
      'tag-resource-2',
      'tag-resource-3',
      'notify',
    ]);
  });

  it('reads every document of a file, skipping empty ones, each located at its own start', () => {
    const text = yaml`
      name: first
      match: { sample: true }
      actions: [{ action: notify }]
      ---
      # retired playbook, kept for the record
      ---
      name: second
      match: { archived: true }
      actions: [{ action: notify }]
    `;

    const playbooks = parsePlaybooks(text, 'rules/many.yaml');

    expect(playbooks.map((playbook) => [playbook.name, playbook.location])).toEqual([
      ['first', { file: 'rules/many.yaml', line: 1, column: 1, pointer: '' }],
      ['second', { file: 'rules/many.yaml', line: 7, column: 1, pointer: '' }],
    ]);
    expect(playbooks[1]?.actions[0]?.location).toEqual({
      file: 'rules/many.yaml',
      line: 9,
      column: 11,
      pointer: '/actions/0',
    });
  });

  it('returns no playbooks for a file of comments only', () => {
    expect(parsePlaybooks('# nothing here yet\n', 'rules/empty.yaml')).toEqual([]);
  });

  it('accepts decorated built-in operators and a value naming another fact', () => {
    const text = yaml`
      name: decorated-operators
      match:
        conditions:
          any:
            - { fact: resources, operator: "someFact:equal", value: x, path: "$[*].kind" }
            - { fact: firstSeen, operator: "not:equal", value: { fact: lastSeen } }
      actions:
        - action: notify
    `;

    const [playbook] = parsePlaybooks(text, 'rules/ops.yaml');

    expect(playbook?.match.conditions).toEqual({
      any: [
        { fact: 'resources', operator: 'someFact:equal', value: 'x', path: '$[*].kind' },
        { fact: 'firstSeen', operator: 'not:equal', value: { fact: 'lastSeen' } },
      ],
    });
  });

  it('compiles the schema once, however many files are parsed', async () => {
    vi.resetModules();
    const compile = vi.spyOn(Ajv.prototype, 'compile');
    try {
      const fresh = await import('../../src/playbooks/index.js');
      const text = 'name: once\nmatch: { sample: true }\nactions: [{ action: notify }]\n';

      fresh.parsePlaybooks(text, 'a.yaml');
      fresh.parsePlaybooks(text, 'b.yaml');

      expect(compile).toHaveBeenCalledTimes(1);
    } finally {
      compile.mockRestore();
    }
  });
});

describe('loadPlaybooks', () => {
  it('searches directories recursively in path order, leaving out test cases and other files', async () => {
    const playbooks = await loadPlaybooks([fixtures]);

    expect(
      playbooks.map((playbook) => [playbook.name, playbook.location.file.slice(fixtures.length)]),
    ).toEqual([
      ['ec2-instance-credential-exfiltration', 'ec2-instance-credential-exfiltration.yaml'],
      ['cloudtrail-logging-disabled', 'iam/iam-defense-evasion.yaml'],
      ['root-credential-usage', 'iam/iam-defense-evasion.yaml'],
      ['s3-bucket-exfiltration', 's3/s3-bucket-exfiltration.yml'],
    ]);
  });

  it('loads files named directly, and a file reached twice only once', async () => {
    const file = `${fixtures}s3/s3-bucket-exfiltration.yml`;

    const playbooks = await loadPlaybooks([file, `${fixtures}s3`]);

    expect(playbooks.map((playbook) => playbook.name)).toEqual(['s3-bucket-exfiltration']);
  });

  it('reads the shipped-style fixture the same way parsePlaybooks reads its text', async () => {
    const file = `${fixtures}ec2-instance-credential-exfiltration.yaml`;

    const [loaded] = await loadPlaybooks([file]);

    expect(loaded).toEqual(parsePlaybooks(await readFile(file, 'utf8'), file)[0]);
    expect(loaded?.actions.map((step) => [step.id, step.after])).toEqual([
      ['snapshot', []],
      ['detach-instance-profile', ['snapshot']],
      ['revoke-role-sessions', ['detach-instance-profile']],
      ['notify', ['revoke-role-sessions']],
    ]);
  });
});

describe('playbookSchema', () => {
  it('compiles under ajv strict mode', () => {
    const ajv = new Ajv({ strict: true, allErrors: true });

    expect(() => ajv.compile(playbookSchema)).not.toThrow();
  });

  it('offers exactly the vocabulary of the Finding model and the playbook defaults', () => {
    const userTypes: Record<UserType, true> = {
      IAMUser: true,
      AssumedRole: true,
      Root: true,
      FederatedUser: true,
      AWSService: true,
      AWSAccount: true,
      Role: true,
      Unknown: true,
    };
    const schema = playbookSchema as {
      properties: Record<string, { default?: unknown; properties?: Record<string, { default?: unknown }> }>;
      definitions: {
        criteria: { properties: Record<string, { items: { enum?: string[]; pattern?: string } }> };
      };
    };
    const criteria = schema.definitions.criteria.properties;

    expect(criteria.resources?.items.enum).toEqual(RESOURCE_KINDS);
    expect(criteria.principals?.items.enum).toEqual(Object.keys(userTypes));
    expect(criteria.techniques?.items.pattern).toBe(TECHNIQUE_ID.source);
    expect(criteria.severity).toMatchObject({ anyOf: [{ enum: SEVERITY_LABELS }, {}] });
    expect(schema.properties.priority?.default).toBe(DEFAULT_PRIORITY);
    expect(schema.properties.limits?.properties?.maxTargets?.default).toBe(DEFAULT_MAX_TARGETS);
  });
});
