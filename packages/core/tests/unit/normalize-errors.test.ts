import { readdirSync, readFileSync } from 'node:fs';
import { FindingFormatError } from '@riposte/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalize, normalizeFinding } from '../../src/normalize/index.js';

type Json = Record<string, unknown>;

const FIXTURES = new URL('../fixtures/findings/', import.meta.url);

const fixture = (folder: string, number: string): Json => {
  const dir = new URL(`${folder}/`, FIXTURES);
  const file = readdirSync(dir).find((name) => name.startsWith(`${number}-`));
  if (!file) throw new Error(`no fixture ${folder}/${number}`);
  return JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
};

/** A full `GuardDuty Finding` EventBridge event. */
const event = (): Json => fixture('cloud-custodian', '01');
/** A bare GuardDuty finding with every kind of block: instance, network, tags, service. */
const finding = (): Json => fixture('elastic-integrations', '44');
/** A bare ASFF GuardDuty finding. */
const asff = (): Json => fixture('cloud-custodian', '04');

/** Runs `act` and returns the FindingFormatError it throws (failing the test on anything else). */
const formatError = (act: () => unknown): FindingFormatError => {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(FindingFormatError);
    return error as FindingFormatError;
  }
  throw new Error('expected a FindingFormatError, nothing was thrown');
};

/** Sets the value at a path of keys inside a copy of `input`. */
const withValue = (input: Json, keys: (string | number)[], value: unknown): Json => {
  const copy = structuredClone(input);
  let node: Record<string | number, unknown> = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[keys.at(-1)!] = value;
  return copy;
};

const without = (input: Json, key: string): Json => {
  const { [key]: _dropped, ...rest } = input;
  return rest;
};

describe('input that is not a finding', () => {
  it('refuses a list inside a list of findings, naming the inner list', () => {
    const error = formatError(() => normalize([finding(), [finding()]]));

    expect(error.path).toBe('/1');
    expect(error.message).toContain('lists of findings do not nest');
  });

  it.each([42, 'a finding', true, null, undefined])('refuses %j at the root', (input) => {
    const error = formatError(() => normalize(input));

    expect(error.code).toBe('FINDING_INVALID');
    expect(error.path).toBe('');
    expect(error.details.path).toBe('');
  });

  it('names the element of a list that is not a finding', () => {
    expect(formatError(() => normalize([finding(), 3])).path).toBe('/1');
  });

  it('refuses an EventBridge event of another kind, naming detail-type', () => {
    const error = formatError(() =>
      normalize({ ...event(), 'detail-type': 'EC2 Instance State-change Notification' }),
    );

    expect(error.path).toBe('/detail-type');
    expect(error.message).toContain('GuardDuty Finding');
  });

  it('refuses a GuardDuty event from another source', () => {
    expect(formatError(() => normalize({ ...event(), source: 'aws.ec2' })).path).toBe('/source');
  });

  it('refuses a GuardDuty event without a detail object', () => {
    expect(formatError(() => normalize(without(event(), 'detail'))).path).toBe('/detail');
    expect(formatError(() => normalize({ ...event(), detail: 'x' })).path).toBe('/detail');
  });

  it('refuses a Security Hub event whose findings are not a list', () => {
    const hub = fixture('cloud-custodian', '03');

    expect(formatError(() => normalize(withValue(hub, ['detail', 'findings'], {}))).path).toBe(
      '/detail/findings',
    );
    expect(formatError(() => normalize(withValue(hub, ['detail', 'findings', 0], 'x'))).path).toBe(
      '/detail/findings/0',
    );
  });
});

describe('missing required fields', () => {
  it.each(['id', 'type', 'accountId', 'severity', 'resource'])(
    'names the missing "%s" of a bare finding',
    (key) => {
      expect(formatError(() => normalize(without(finding(), key))).path).toBe(`/${key}`);
    },
  );

  it.each(['id', 'type', 'accountId'])('names the missing "%s" inside an event', (key) => {
    const input = event();
    input.detail = without(input.detail as Json, key);

    expect(formatError(() => normalize(input)).path).toBe(`/detail/${key}`);
  });

  it('treats an empty id as missing', () => {
    expect(formatError(() => normalize({ ...finding(), id: '' })).message).toMatch(
      /missing required non-empty string "id"/,
    );
  });

  it('names a missing resourceType', () => {
    expect(formatError(() => normalize(withValue(finding(), ['resource', 'resourceType'], null))).path).toBe(
      '/resource/resourceType',
    );
  });

  it.each(['Id', 'AwsAccountId', 'Resources', 'Severity'])(
    'names the missing "%s" of an ASFF finding',
    (key) => {
      expect(formatError(() => normalize(without(asff(), key))).path).toBe(`/${key}`);
    },
  );
});

describe('fields of the wrong type', () => {
  it.each([
    [['id'], 12345, '/id'],
    [['type'], 'NotAFindingType', '/type'],
    [['severity'], 'high', '/severity'],
    [['severity'], 11, '/severity'],
    [['severity'], -1, '/severity'],
    [['service'], [], '/service'],
    [['service', 'count'], -1, '/service/count'],
    [['service', 'count'], 2.5, '/service/count'],
    [['service', 'archived'], 'maybe', '/service/archived'],
    [
      ['service', 'action', 'networkConnectionAction', 'localPortDetails', 'port'],
      70000,
      '/service/action/networkConnectionAction/localPortDetails/port',
    ],
    [['resource', 'instanceDetails', 'instanceId'], 7, '/resource/instanceDetails/instanceId'],
    [['resource', 'instanceDetails', 'tags'], 'Name=web', '/resource/instanceDetails/tags'],
    [['resource', 'instanceDetails', 'tags', 0, 'key'], null, '/resource/instanceDetails/tags/0/key'],
    [
      ['resource', 'instanceDetails', 'networkInterfaces', 0],
      3,
      '/resource/instanceDetails/networkInterfaces/0',
    ],
    [
      ['resource', 'instanceDetails', 'networkInterfaces', 0, 'securityGroups'],
      {},
      '/resource/instanceDetails/networkInterfaces/0/securityGroups',
    ],
  ] as const)('refuses %j = %j at %s', (keys, value, path) => {
    expect(formatError(() => normalize(withValue(finding(), [...keys], value))).path).toBe(path);
  });

  it('refuses a finding type longer than 256 characters with FINDING_INVALID at /type', () => {
    // Arrange: a well-formed type, only too long
    const type = `Backdoor:EC2/${'A'.repeat(244)}`;

    // Act
    const error = formatError(() => normalize({ ...finding(), type }));

    // Assert
    expect(type).toHaveLength(257);
    expect(error.code).toBe('FINDING_INVALID');
    expect(error.path).toBe('/type');
    expect(error.message).toContain('is longer than 256 characters');
    expect(error.message.length).toBeLessThan(200);
  });

  it('refuses an over-long type inside an event at /detail/type', () => {
    const input = event();
    (input.detail as Json).type = `Backdoor:EC2/${'.'.repeat(300)}Z`;

    expect(formatError(() => normalize(input)).path).toBe('/detail/type');
  });

  it('accepts a type of exactly 256 characters', () => {
    const type = `Backdoor:EC2/${'A'.repeat(243)}`;

    expect(normalizeFinding({ ...finding(), type }).type.name).toHaveLength(256);
  });

  it('names a bad bucket inside s3BucketDetails', () => {
    const s3 = fixture('elastic-integrations', '43');

    const nameless = withValue(
      withValue(s3, ['resource', 's3BucketDetails', 0, 'name'], null),
      ['resource', 's3BucketDetails', 0, 'arn'],
      null,
    );

    expect(formatError(() => normalize(nameless)).path).toBe('/resource/s3BucketDetails/0/name');
    expect(
      formatError(() =>
        normalize(
          withValue(
            s3,
            [
              'resource',
              's3BucketDetails',
              0,
              'publicAccess',
              'permissionConfiguration',
              'accountLevelPermissions',
              'blockPublicAccess',
              'blockPublicAcls',
            ],
            'yes',
          ),
        ),
      ).path,
    ).toBe(
      '/resource/s3BucketDetails/0/publicAccess/permissionConfiguration/accountLevelPermissions/blockPublicAccess/blockPublicAcls',
    );
  });

  it('names a trail entry that is not text', () => {
    const trail = fixture('elastic-integrations', '29');
    const path = ['service', 'action', 'awsApiCallAction', 'affectedResources', 'AWS::CloudTrail::Trail'];

    expect(formatError(() => normalize(withValue(trail, path, ['a', 'b']))).path).toBe(
      '/service/action/awsApiCallAction/affectedResources/AWS::CloudTrail::Trail',
    );
  });

  it('escapes "/" in the JSON pointer of a ProductFields key', () => {
    const input = withValue(asff(), ['ProductFields', 'aws/guardduty/service/count'], 'many');

    expect(formatError(() => normalize(input)).path).toBe('/ProductFields/aws~1guardduty~1service~1count');
  });

  it('names a bad ASFF severity label', () => {
    expect(formatError(() => normalize({ ...asff(), Severity: { Label: 'SEVERE' } })).path).toBe(
      '/Severity/Label',
    );
  });
});

describe('numbers in E-notation', () => {
  it.each(['8E', 'E9', '1e999', '8.0.0', '0x8', ''])('refuses the severity %j', (written) => {
    expect(formatError(() => normalize({ ...finding(), severity: written })).path).toBe('/severity');
  });

  it('refuses a count in E-notation that is not a whole number', () => {
    expect(formatError(() => normalize(withValue(finding(), ['service', 'count'], '4.5E0'))).path).toBe(
      '/service/count',
    );
  });

  it('accepts a well-formed E-notation severity', () => {
    expect(normalizeFinding({ ...finding(), severity: '2.0E0' }).severity).toBe(2);
  });
});

describe('odd timestamps', () => {
  it.each([
    'yesterday',
    '2022-13-01T00:00:00Z',
    '2022-02-30T00:00:00Z',
    '2023-02-29',
    '2022-01-12T24:00:00Z',
    '2022-01-12T19:61:00Z',
    '12/01/2022',
    '1.5E',
    'Infinity',
    true,
    {},
  ])('refuses createdAt %j', (written) => {
    const error = formatError(() => normalize({ ...finding(), createdAt: written }));

    expect(error.path).toBe('/createdAt');
  });

  it('names the bad timestamp deep inside a resource', () => {
    const input = withValue(finding(), ['resource', 'instanceDetails', 'launchTime'], 'last week');

    expect(formatError(() => normalize(input)).path).toBe('/resource/instanceDetails/launchTime');
  });

  it('accepts a leap day', () => {
    expect(normalizeFinding({ ...finding(), createdAt: '2024-02-29T12:00:00Z' }).createdAt).toBe(
      '2024-02-29T12:00:00.000Z',
    );
  });
});

describe('one finding expected', () => {
  it('refuses input with none or several', () => {
    expect(formatError(() => normalizeFinding({ findings: [] })).message).toContain('got 0');
    expect(formatError(() => normalizeFinding([finding(), finding()])).message).toContain('got 2');
  });
});

describe('whatever the input', () => {
  const samples = [
    finding(),
    event(),
    asff(),
    fixture('cloud-custodian', '03'),
    fixture('elastic-integrations', '21'),
    fixture('documented', '01'),
    fixture('documented', '02'),
    fixture('documented', '07'),
    fixture('documented', '09'),
    fixture('documented', '12'),
    fixture('cdk-eks-blueprints-patterns', '01'),
    fixture('aws-solutions-library-samples', '01'),
  ];

  /** Every path of keys from the root to a node of `value`. */
  const pathsOf = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] => {
    if (Array.isArray(value))
      return value.flatMap((inner, index) => [[...prefix, index], ...pathsOf(inner, [...prefix, index])]);
    if (typeof value === 'object' && value !== null) {
      return Object.entries(value).flatMap(([key, inner]) => [
        [...prefix, key],
        ...pathsOf(inner, [...prefix, key]),
      ]);
    }
    return [];
  };

  it('throws nothing but FindingFormatError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        try {
          normalize(input);
        } catch (error) {
          return error instanceof FindingFormatError;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('throws nothing but FindingFormatError, with a path inside the input, when any node of a real finding is replaced', () => {
    const cases = samples.flatMap((sample) => pathsOf(sample).map((path) => ({ sample, path })));
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.jsonValue({ maxDepth: 2 }), ({ sample, path }, value) => {
        try {
          normalize(withValue(sample, path, value));
        } catch (error) {
          return error instanceof FindingFormatError && typeof error.path === 'string';
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});
