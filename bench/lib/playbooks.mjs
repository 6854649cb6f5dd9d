// Generates N realistic playbooks over the GuardDuty finding-type catalog, and expresses the same
// playbooks the naive way: one json-rules-engine rule each, every criterion a condition.
import { readFileSync } from 'node:fs';
import { path, seededRandom } from './common.mjs';

const CATALOG = JSON.parse(
  readFileSync(path('packages/core/src/catalog/data/guardduty-finding-types.json'), 'utf8'),
).filter((entry) => !entry.deprecated);

const RESOURCE_KINDS_BY_TYPE = {
  EC2: ['instance'],
  IAMUser: ['access-key'],
  S3: ['s3-bucket', 'access-key'],
  Kubernetes: ['eks-cluster', 'access-key'],
  EKS: ['eks-cluster'],
  ECS: ['ecs-cluster', 'container'],
  Runtime: ['instance', 'container', 'eks-cluster'],
  RDS: ['rds-instance'],
  Lambda: ['lambda-function'],
  EC2Instance: ['instance'],
};

const CONDITIONS = [
  { fact: 'raw', path: '$.service.action.actionType', operator: 'equal', value: 'AWS_API_CALL' },
  {
    any: [
      { fact: 'actor', path: '$.country', operator: 'notIn', value: ['United States', 'Canada'] },
      { fact: 'count', operator: 'greaterThan', value: 5 },
    ],
  },
  {
    all: [
      { fact: 'severity', operator: 'greaterThanInclusive', value: 5 },
      { not: { fact: 'resourceRole', operator: 'equal', value: 'ACTOR' } },
    ],
  },
  {
    fact: 'actor',
    path: '$.api',
    operator: 'in',
    value: ['GetObject', 'ListObjects', 'ListBuckets', 'GetBucketAcl', 'PutBucketPolicy'],
  },
  { fact: 'raw', path: '$.service.additionalInfo.sample', operator: 'notEqual', value: true },
  { fact: 'region', operator: 'in', value: ['us-east-1', 'us-east-2', 'eu-west-1'] },
];

const EXCLUSIONS = [
  { tags: { Environment: ['test', 'sandbox'] } },
  { accounts: ['000011112222'] },
  { severity: { max: 3 } },
  { tags: { 'security:ignore': '*' } },
  {
    conditions: { fact: 'actor', path: '$.remoteIp', operator: 'in', value: ['198.51.100.7', '203.0.113.9'] },
  },
];

/** `Exfiltration:S3/MaliciousIPCaller.Custom` -> head `Exfiltration:S3`, family `MaliciousIPCaller`. */
const partsOf = (type) => {
  const [head, rest = ''] = type.split('/');
  return { head, purpose: head.split(':')[0], resource: head.split(':')[1], family: rest.split(/[.!]/)[0] };
};

/** The type patterns a security team writes: mostly exact types, then families and whole resources. */
const typePatterns = (random) => {
  const entry = random.pick(CATALOG);
  const { head, purpose, resource, family } = partsOf(entry.type);
  const roll = random.next();
  if (roll < 0.6) return random.some(CATALOG, random.int(1, 3)).map((other) => other.type);
  if (roll < 0.85) return [`${head}/${family}*`];
  if (roll < 0.95) return [`${head}/*`];
  if (roll < 0.98) return [`${purpose}:**`];
  return [`*:${resource}/**`];
};

/**
 * N playbooks, seeded: the same set on every run. `context` lends real values (accounts, tag pairs,
 * technique ids) so tag, account and technique criteria sometimes hold.
 */
export const generatePlaybooks = (count, context, seed = 20261127) => {
  const random = seededRandom(seed + count);
  const playbooks = [];
  for (let index = 0; index < count; index++) {
    const match = {};
    if (random.chance(0.98)) match.types = typePatterns(random);
    else if (random.chance(0.5)) match.tactics = random.some(context.tactics, random.int(1, 2));
    else match.techniques = random.some(context.techniques, random.int(1, 2));
    if (random.chance(0.35)) match.severity = { min: random.pick([2, 4, 5, 7, 8]) };
    else if (random.chance(0.1))
      match.severity = { labels: random.some(['Low', 'Medium', 'High', 'Critical'], 2) };
    if (random.chance(0.2) && match.types) {
      const kinds = RESOURCE_KINDS_BY_TYPE[partsOf(match.types[0]).resource] ?? ['instance'];
      match.resources = random.some(kinds, random.int(1, kinds.length));
    }
    if (random.chance(0.08)) match.principals = random.pick([['IAMUser'], ['AssumedRole', 'Root']]);
    if (random.chance(0.1)) match.accounts = [random.pick(context.accounts), '444455556666'];
    if (random.chance(0.1))
      match.regions = random.some(['us-east-1', 'us-east-2', 'us-west-1', 'eu-west-1'], 2);
    if (random.chance(0.06)) match.techniques = random.some(context.techniques, 2);
    if (random.chance(0.06)) match.tactics = random.some(context.tactics, 2);
    if (random.chance(0.08)) {
      const [key, value] = random.pick(context.tags);
      match.tags = { [key]: random.chance(0.5) ? value : '*' };
    }
    if (random.chance(0.15)) match.conditions = random.pick(CONDITIONS);
    const exclude = random.chance(0.1) ? [random.pick(EXCLUSIONS)] : [];
    const name = `playbook-${String(index).padStart(5, '0')}`;
    playbooks.push({
      name,
      enabled: true,
      priority: random.int(1, 1000),
      match,
      exclude,
      actions: [
        {
          id: 'notify',
          action: 'notify',
          params: {},
          after: [],
          onError: 'continue',
          location: { file: `bench/${name}.yaml`, line: 6, column: 3, pointer: '/actions/0' },
        },
      ],
      limits: { maxTargets: 5 },
      rerunOnUpdate: false,
      location: { file: `bench/${name}.yaml`, line: 1, column: 1, pointer: '' },
    });
  }
  return playbooks;
};

/** Real values of the corpus for generated criteria to use. */
export const corpusContext = (findings, tactics) => {
  const tags = new Map();
  for (const finding of findings) {
    for (const resource of finding.resources) {
      for (const [key, value] of Object.entries(resource.tags ?? {}))
        tags.set(`${key}=${value}`, [key, value]);
    }
  }
  return {
    accounts: [...new Set(findings.map((finding) => finding.accountId))].sort(),
    techniques: [
      ...new Set(findings.flatMap((finding) => finding.techniques.map((technique) => technique.id))),
    ].sort(),
    tactics: tactics.map((tactic) => tactic.id),
    tags: [...tags.values()].sort(),
  };
};

// ---- the naive approach: one json-rules-engine rule per playbook --------------------------------

const patternRegex = (pattern) =>
  new RegExp(
    `^${pattern
      .split('**')
      .map((part) =>
        part
          .split('*')
          .map((text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^:/]*'),
      )
      .join('.*')}$`,
  );

/** The operators the naive rules need beyond json-rules-engine's built-ins. */
export const addNaiveOperators = (engine) => {
  const regexes = new Map();
  const regexOf = (pattern) => {
    let regex = regexes.get(pattern);
    if (!regex) {
      regex = patternRegex(pattern);
      regexes.set(pattern, regex);
    }
    return regex;
  };
  engine.addOperator('typeMatchesAny', (type, patterns) =>
    patterns.some((pattern) => regexOf(pattern).test(type)),
  );
  engine.addOperator('hasKindIn', (resources, kinds) =>
    resources.some((resource) => kinds.includes(resource.kind)),
  );
  engine.addOperator('hasPrincipalIn', (resources, userTypes) =>
    resources.some((resource) => resource.kind === 'access-key' && userTypes.includes(resource.userType)),
  );
  const techniqueIn = (technique, wanted) =>
    wanted.some((id) => technique.id === id || (!id.includes('.') && technique.id.startsWith(`${id}.`)));
  engine.addOperator('hasAnyTechniqueIn', (techniques, wanted) =>
    techniques.some((technique) => techniqueIn(technique, wanted)),
  );
  engine.addOperator('hasPrimaryTechniqueIn', (techniques, wanted) =>
    techniques.some((technique) => technique.relation === 'primary' && techniqueIn(technique, wanted)),
  );
  engine.addOperator('hasAnyTacticIn', (tactics, wanted) =>
    tactics.some((tactic) => wanted.includes(tactic.id)),
  );
  engine.addOperator('hasPrimaryTacticIn', (tactics, wanted) =>
    tactics.some((tactic) => tactic.relation === 'primary' && wanted.includes(tactic.id)),
  );
  engine.addOperator('carriesTags', (resources, wanted) =>
    resources.some((resource) =>
      Object.entries(wanted).every(([key, value]) => {
        const tags = resource.tags ?? {};
        const values = typeof value === 'string' ? [value] : value;
        return Object.hasOwn(tags, key) && (values.includes('*') || values.includes(tags[key]));
      }),
    ),
  );
};

/** The criteria of one `match` or `exclude` block as a json-rules-engine `all`. */
const criteriaConditions = (criteria) => {
  const all = [];
  if (criteria.types)
    all.push({ fact: 'type', path: '$.name', operator: 'typeMatchesAny', value: criteria.types });
  if (criteria.severity?.min !== undefined) {
    all.push({ fact: 'severity', operator: 'greaterThanInclusive', value: criteria.severity.min });
  }
  if (criteria.severity?.max !== undefined) {
    all.push({ fact: 'severity', operator: 'lessThanInclusive', value: criteria.severity.max });
  }
  if (criteria.severity?.labels)
    all.push({ fact: 'severityLabel', operator: 'in', value: criteria.severity.labels });
  if (criteria.accounts) all.push({ fact: 'accountId', operator: 'in', value: criteria.accounts });
  if (criteria.regions) all.push({ fact: 'region', operator: 'in', value: criteria.regions });
  if (criteria.resources) all.push({ fact: 'resources', operator: 'hasKindIn', value: criteria.resources });
  if (criteria.principals)
    all.push({ fact: 'resources', operator: 'hasPrincipalIn', value: criteria.principals });
  // As the matcher: primary techniques and tactics only, unless the criteria take related ones too.
  const which = criteria.relatedTechniques ? 'Any' : 'Primary';
  if (criteria.techniques)
    all.push({ fact: 'techniques', operator: `has${which}TechniqueIn`, value: criteria.techniques });
  if (criteria.tactics)
    all.push({ fact: 'tactics', operator: `has${which}TacticIn`, value: criteria.tactics });
  if (criteria.tags) all.push({ fact: 'resources', operator: 'carriesTags', value: criteria.tags });
  if (criteria.conditions) all.push(criteria.conditions);
  return { all };
};

/** One rule per playbook: its match, and none of its exclusions. */
export const naiveRule = (playbook) => {
  const conditions = criteriaConditions(playbook.match);
  if (playbook.exclude.length > 0) {
    conditions.all.push({ not: { any: playbook.exclude.map(criteriaConditions) } });
  }
  return {
    name: playbook.name,
    priority: 1,
    conditions,
    event: { type: 'matched', params: { playbook: playbook.name } },
  };
};
