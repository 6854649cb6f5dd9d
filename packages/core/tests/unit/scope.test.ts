import { readFileSync } from 'node:fs';
import {
  type ActionTarget,
  type Finding,
  normalizeFinding,
  outOfScopeReason,
  type ResourceKind,
  resourceIdentifiers,
  resourcesOfKind,
} from '@riposte/core';
import { describe, expect, it } from 'vitest';

type Json = Record<string, unknown>;

/** Sets the value at a path of keys inside `json` (a copy the test owns); `undefined` deletes it. */
const setAt = (json: Json, keys: (string | number)[], value: unknown): void => {
  let node = json as Record<string | number, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  if (value === undefined) delete node[keys.at(-1)!];
  else node[keys.at(-1)!] = value;
};

const SCENARIO = {
  credentialExfiltration: '01-instance-credential-exfiltration.json',
  s3Exfiltration: '02-s3-exfiltration.json',
  cloudTrailLoggingDisabled: '03-cloudtrail-logging-disabled.json',
  rootCredentialUsage: '04-root-credential-usage.json',
} as const;

/** A fresh copy of one scenario finding (real-shaped, valid identifiers), as raw GuardDuty JSON. */
const scenarioRaw = (name: keyof typeof SCENARIO): Json =>
  JSON.parse(
    readFileSync(
      new URL(`../../../../examples/scenario/findings/${SCENARIO[name]}`, import.meta.url),
      'utf8',
    ),
  );

/** A shared GuardDuty sample (tests/fixtures/findings/elastic-integrations), as raw JSON. */
const elasticRaw = (file: string): Json =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/findings/elastic-integrations/${file}`, import.meta.url), 'utf8'),
  );

/** The scenario finding, normalized after `mutate` changed its raw JSON (the `detail` of the event). */
const scenario = (name: keyof typeof SCENARIO, mutate: (detail: Json) => void = () => {}): Finding => {
  const raw = scenarioRaw(name);
  mutate((raw.detail as Json | undefined) ?? raw);
  return normalizeFinding(raw);
};

/** A target as the built-in actions build it (packages/actions/src/targets.ts `targetOf`). */
const targetOf = (
  finding: Finding,
  kind: ActionTarget['kind'],
  id: string,
  options: { arn?: string; region?: string } = {},
): ActionTarget => ({
  kind,
  id,
  ...(options.arn === undefined ? {} : { arn: options.arn }),
  accountId: finding.accountId,
  region: options.region ?? finding.region,
  label: `${kind} ${id}`,
});

const instanceTarget = (finding: Finding): ActionTarget => {
  const [instance] = resourcesOfKind(finding, 'instance');
  return targetOf(finding, 'instance', instance!.instanceId, { arn: instance!.arn });
};

const roleTarget = (finding: Finding): ActionTarget =>
  targetOf(finding, 'access-key', resourcesOfKind(finding, 'access-key')[0]!.roleName!);

const notifyTarget = (finding: Finding): ActionTarget =>
  targetOf(finding, 'finding', finding.id, finding.arn === undefined ? {} : { arn: finding.arn });

describe('outOfScopeReason: the scenario', () => {
  it('accepts every target the built-in actions build from the scenario findings', () => {
    // Arrange
    const exfiltration = scenario('credentialExfiltration');
    const s3 = scenario('s3Exfiltration');
    const trail = scenario('cloudTrailLoggingDisabled');
    const root = scenario('rootCredentialUsage');
    const [bucket] = resourcesOfKind(s3, 's3-bucket');
    const [trailResource] = resourcesOfKind(trail, 'cloudtrail-trail');
    const targets: [Finding, ActionTarget][] = [
      [exfiltration, instanceTarget(exfiltration)],
      [exfiltration, roleTarget(exfiltration)],
      [exfiltration, targetOf(exfiltration, 'access-key', 'ASIAEXAMPLEKEY123456')],
      [exfiltration, notifyTarget(exfiltration)],
      [s3, targetOf(s3, 's3-bucket', bucket!.name, { arn: bucket!.arn })],
      [s3, roleTarget(s3)],
      [trail, targetOf(trail, 'cloudtrail-trail', trailResource!.arn!, { arn: trailResource!.arn! })],
      [trail, targetOf(trail, 'cloudtrail-trail', trailResource!.name)],
      [root, targetOf(root, 'access-key', 'ASIAEXAMPLEROOT12345')],
      [root, notifyTarget(root)],
    ];

    // Act
    const reasons = targets.map(([finding, target]) => outOfScopeReason(finding, target));

    // Assert
    expect(reasons).toEqual(targets.map(() => undefined));
  });

  it('accepts every identifier an action may carry as a target id, for every scenario resource', () => {
    // Instances and buckets are addressed by id and name only (EC2 and S3 take no ARN there); an
    // access key by key id, user or role name (not its principalId).
    const usable = (kind: ResourceKind, id: string) =>
      !(id.startsWith('arn:') && (kind === 'instance' || kind === 's3-bucket')) &&
      !(kind === 'access-key' && id.includes(':'));
    for (const name of Object.keys(SCENARIO) as (keyof typeof SCENARIO)[]) {
      const finding = scenario(name);
      for (const resource of finding.resources) {
        for (const id of resourceIdentifiers(resource).filter((value) => usable(resource.kind, value))) {
          expect(
            outOfScopeReason(finding, targetOf(finding, resource.kind as ResourceKind, id)),
          ).toBeUndefined();
        }
      }
    }
  });

  it('accepts a role named by an assumed-role ARN of the finding account', () => {
    const finding = scenario('credentialExfiltration', (detail) => {
      setAt(
        detail,
        ['resource', 'accessKeyDetails', 'userName'],
        'arn:aws:sts::111122223333:assumed-role/app-server-s3-full/i-0a1b2c3d4e5f67890',
      );
    });

    expect(outOfScopeReason(finding, roleTarget(finding))).toBeUndefined();
  });
});

describe('outOfScopeReason: target ids', () => {
  it.each(['i-0*', '*', 'i-0a1b2c3d4e5f6789?', 'i-0a1b2c3d 4e5f67890', 'i-0a1b2c3d4e5f67890\n'])(
    'refuses the wildcard or malformed instance id %j even when the finding names it',
    (id) => {
      // Arrange: the hostile finding names exactly the id the target carries
      const finding = scenario('credentialExfiltration', (detail) => {
        setAt(detail, ['resource', 'instanceDetails', 'instanceId'], id);
      });

      // Act
      const reason = outOfScopeReason(finding, targetOf(finding, 'instance', id));

      // Assert
      expect(reason).toContain('is not a valid EC2 instance id');
      expect(reason).toContain(JSON.stringify(id));
    },
  );

  it('refuses an access-key target that is neither a key id nor an IAM name', () => {
    const finding = scenario('credentialExfiltration', (detail) => {
      setAt(detail, ['resource', 'accessKeyDetails', 'userName'], 'app-*');
    });

    expect(outOfScopeReason(finding, roleTarget(finding))).toContain(
      '"app-*" is neither an access key id nor an IAM user or role name',
    );
  });

  it('refuses a bucket name outside the S3 naming rules', () => {
    const finding = scenario('s3Exfiltration', (detail) => {
      setAt(detail, ['resource', 's3BucketDetails', 0, 'name'], 'Acme_Exports');
      setAt(detail, ['resource', 's3BucketDetails', 0, 'arn'], 'arn:aws:s3:::Acme_Exports');
    });

    expect(outOfScopeReason(finding, targetOf(finding, 's3-bucket', 'Acme_Exports'))).toContain(
      'is not a valid S3 bucket name',
    );
  });

  it('refuses a target the finding does not name', () => {
    const finding = scenario('credentialExfiltration');

    expect(outOfScopeReason(finding, targetOf(finding, 'instance', 'i-0fffffffffffffff0'))).toBe(
      'the finding names no instance "i-0fffffffffffffff0"',
    );
  });

  it('refuses a notify target of another finding', () => {
    const finding = scenario('credentialExfiltration');

    expect(outOfScopeReason(finding, targetOf(finding, 'finding', 'a2c4e6f8b0d24f6a8c0e2b4d6f8a0c02'))).toBe(
      'target "a2c4e6f8b0d24f6a8c0e2b4d6f8a0c02" is not this finding',
    );
  });
});

describe('outOfScopeReason: the finding itself', () => {
  it.each([
    ['an account id that is not 12 digits', { accountId: '11112222333' }, 'finding accountId "11112222333"'],
    ['a wildcard account id', { accountId: '*' }, 'finding accountId "*"'],
    ['an invalid region', { region: 'US-EAST-1' }, 'finding region "US-EAST-1"'],
    ['an unknown partition', { partition: 'aws-moon' }, 'finding partition "aws-moon"'],
    ['a region of another partition', { partition: 'aws-cn' }, 'is in partition "aws", not "aws-cn"'],
  ])('refuses every target of a finding with %s', (_name, overrides, reason) => {
    // Arrange
    const finding: Finding = { ...scenario('credentialExfiltration'), ...overrides };

    // Act
    const reasons = [instanceTarget(finding), roleTarget(finding), notifyTarget(finding)].map((target) =>
      outOfScopeReason(finding, target),
    );

    // Assert
    for (const found of reasons) expect(found).toContain(reason);
  });

  it('keeps refusing a target of another account or region', () => {
    const finding = scenario('credentialExfiltration');

    expect(outOfScopeReason(finding, { ...instanceTarget(finding), accountId: '999999999999' })).toBe(
      `target account "999999999999" is not the finding's account 111122223333`,
    );
    expect(outOfScopeReason(finding, { ...instanceTarget(finding), region: 'us-west-2' })).toBe(
      `target region "us-west-2" is not the finding's region us-east-1`,
    );
  });
});

describe('outOfScopeReason: every identifier of the resource', () => {
  it('refuses a role named by an ARN of another account, naming the ARN', () => {
    // Arrange: today's normalizer takes the role name X out of the ARN
    const finding = scenario('credentialExfiltration', (detail) => {
      setAt(detail, ['resource', 'accessKeyDetails', 'userName'], 'arn:aws:iam::999999999999:role/X');
    });
    expect(resourcesOfKind(finding, 'access-key')[0]).toMatchObject({
      roleName: 'X',
      principalArn: 'arn:aws:iam::999999999999:role/X',
    });

    // Act
    const reason = outOfScopeReason(finding, targetOf(finding, 'access-key', 'X'));

    // Assert
    expect(reason).toBe(
      `access-key "X": userName "arn:aws:iam::999999999999:role/X" is in account "999999999999", not the finding's account 111122223333`,
    );
  });

  it('refuses the access key itself when its principal ARN is of another account', () => {
    const finding = scenario('credentialExfiltration', (detail) => {
      setAt(
        detail,
        ['resource', 'accessKeyDetails', 'userName'],
        'arn:aws:sts::999999999999:assumed-role/app-server-s3-full/i-0a1b2c3d4e5f67890',
      );
    });

    expect(outOfScopeReason(finding, targetOf(finding, 'access-key', 'ASIAEXAMPLEKEY123456'))).toContain(
      'is in account "999999999999"',
    );
  });

  it('refuses a principal ARN of another partition', () => {
    const finding = scenario('credentialExfiltration', (detail) => {
      setAt(
        detail,
        ['resource', 'accessKeyDetails', 'userName'],
        'arn:aws-us-gov:iam::111122223333:role/app-server-s3-full',
      );
    });

    expect(outOfScopeReason(finding, roleTarget(finding))).toContain(
      `is in partition "aws-us-gov", not the finding's partition "aws"`,
    );
  });

  it('refuses the credential-source instance when its instance profile ARN is of another account', () => {
    const finding = scenario('credentialExfiltration', (detail) => {
      setAt(
        detail,
        ['resource', 'instanceDetails', 'iamInstanceProfile', 'arn'],
        'arn:aws:iam::999999999999:instance-profile/app-server-profile',
      );
    });

    expect(outOfScopeReason(finding, instanceTarget(finding))).toBe(
      `instance "i-0a1b2c3d4e5f67890": iamInstanceProfile.arn "arn:aws:iam::999999999999:instance-profile/app-server-profile" is in account "999999999999", not the finding's account 111122223333`,
    );
  });

  it('refuses an instance profile ARN of another partition', () => {
    const finding = scenario('credentialExfiltration', (detail) => {
      setAt(
        detail,
        ['resource', 'instanceDetails', 'iamInstanceProfile', 'arn'],
        'arn:aws-cn:iam::111122223333:instance-profile/app-server-profile',
      );
    });

    expect(outOfScopeReason(finding, instanceTarget(finding))).toContain(
      `iamInstanceProfile.arn "arn:aws-cn:iam::111122223333:instance-profile/app-server-profile" is in partition "aws-cn"`,
    );
  });

  it.each<[string, (detail: Json) => void, string]>([
    [
      'a wildcard security group',
      (detail) => {
        setAt(
          detail,
          ['resource', 'instanceDetails', 'networkInterfaces', 0, 'securityGroups', 0, 'groupId'],
          'sg-*',
        );
      },
      'securityGroups[0].groupId "sg-*" is not a valid security group id',
    ],
    [
      'a malformed network interface',
      (detail) => {
        setAt(
          detail,
          ['resource', 'instanceDetails', 'networkInterfaces', 0, 'networkInterfaceId'],
          'eni-0f1e2d3c4b5a6978*',
        );
      },
      'networkInterfaces[0].networkInterfaceId "eni-0f1e2d3c4b5a6978*"',
    ],
    [
      'a VPC id with a comma',
      (detail) => {
        setAt(
          detail,
          ['resource', 'instanceDetails', 'networkInterfaces', 0, 'vpcId'],
          'vpc-0abc1234def567890,vpc-12345678',
        );
      },
      'vpcId "vpc-0abc1234def567890,vpc-12345678" is not a valid VPC id',
    ],
    [
      'an instance profile that is not one',
      (detail) => {
        setAt(
          detail,
          ['resource', 'instanceDetails', 'iamInstanceProfile', 'arn'],
          'arn:aws:iam::111122223333:role/admin',
        );
      },
      'names no "instance-profile/..." resource',
    ],
  ])('refuses an instance with %s', (_name, mutate, reason) => {
    const finding = scenario('credentialExfiltration', mutate);

    expect(outOfScopeReason(finding, instanceTarget(finding))).toContain(reason);
  });

  it('refuses the placeholder identifiers of a GuardDuty sample finding', () => {
    // Arrange: shared sample 44 (UnauthorizedAccess:EC2/SSHBruteForce) names a placeholder instance
    // profile ARN and GeneratedFindingSecurityId
    const raw = elasticRaw('44-unauthorizedaccess-ec2-sshbruteforce.json');
    const finding = normalizeFinding(raw);
    setAt(raw, ['resource', 'instanceDetails', 'iamInstanceProfile'], undefined);
    const withoutProfile = normalizeFinding(raw);

    // Act
    const reason = outOfScopeReason(finding, instanceTarget(finding));
    const next = outOfScopeReason(withoutProfile, instanceTarget(withoutProfile));

    // Assert
    expect(reason).toBe(
      'instance "i-99999999": iamInstanceProfile.arn "arn:aws:iam::973743533182:example/instance/profile" names no "instance-profile/..." resource',
    );
    expect(next).toContain('vpcId "GeneratedFindingVPCId" is not a valid VPC id');
  });

  it.each<[string, (detail: Json) => void, string]>([
    [
      'the role session name',
      (detail) => {
        setAt(detail, ['resource', 'accessKeyDetails', 'principalId'], 'AROAEXAMPLEROLEID1234:a b');
      },
      'principalId "AROAEXAMPLEROLEID1234:a b"',
    ],
    [
      'the access key id',
      (detail) => {
        setAt(detail, ['resource', 'accessKeyDetails', 'accessKeyId'], 'ASIA*');
      },
      'accessKeyId "ASIA*" is not a valid access key id',
    ],
  ])('refuses a role whose key carries an invalid %s', (_name, mutate, reason) => {
    const finding = scenario('credentialExfiltration', mutate);

    expect(outOfScopeReason(finding, roleTarget(finding))).toContain(reason);
  });

  it('refuses a bucket whose ARN names another bucket', () => {
    const finding = scenario('s3Exfiltration', (detail) => {
      setAt(detail, ['resource', 's3BucketDetails', 0, 'arn'], 'arn:aws:s3:::someone-elses-bucket');
    });
    const [bucket] = resourcesOfKind(finding, 's3-bucket');

    expect(outOfScopeReason(finding, targetOf(finding, 's3-bucket', bucket!.name))).toBe(
      `s3-bucket "acme-customer-exports": arn "arn:aws:s3:::someone-elses-bucket" does not name "acme-customer-exports"`,
    );
  });

  it('refuses a bucket ARN of another partition', () => {
    const finding = scenario('s3Exfiltration', (detail) => {
      setAt(detail, ['resource', 's3BucketDetails', 0, 'arn'], 'arn:aws-cn:s3:::acme-customer-exports');
    });

    expect(outOfScopeReason(finding, targetOf(finding, 's3-bucket', 'acme-customer-exports'))).toContain(
      'is in partition "aws-cn"',
    );
  });

  it.each([
    ['another account', 'arn:aws:cloudtrail:us-east-1:999999999999:trail/org-audit-trail', 'is in account'],
    [
      'another partition',
      'arn:aws-cn:cloudtrail:us-east-1:111122223333:trail/org-audit-trail',
      'is in partition',
    ],
    ['another region', 'arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-audit-trail', 'is in region'],
    ['a wildcard', 'arn:aws:cloudtrail:us-east-1:111122223333:trail/org-*', 'contains a wildcard'],
  ])('refuses a trail ARN of %s, never reducing it to the bare name', (_name, arn, reason) => {
    // Arrange
    const finding = scenario('cloudTrailLoggingDisabled', (detail) => {
      setAt(
        detail,
        ['service', 'action', 'awsApiCallAction', 'affectedResources', 'AWS::CloudTrail::Trail'],
        arn,
      );
    });
    const [trail] = resourcesOfKind(finding, 'cloudtrail-trail');

    // Act
    const byArn = outOfScopeReason(finding, targetOf(finding, 'cloudtrail-trail', arn, { arn }));
    const byName = outOfScopeReason(finding, targetOf(finding, 'cloudtrail-trail', trail!.name));

    // Assert
    expect(byArn).toContain(reason);
    expect(byName).toContain(arn.includes('*') ? 'is not a valid CloudTrail trail name' : reason);
  });

  it('refuses a target ARN the finding does not give for the resource', () => {
    const finding = scenario('credentialExfiltration');

    expect(
      outOfScopeReason(finding, {
        ...instanceTarget(finding),
        arn: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0fffffffffffffff0',
      }),
    ).toContain('is not one the finding gives for instance "i-0a1b2c3d4e5f67890"');
  });

  it('refuses a notify target whose ARN is of another account', () => {
    const finding = scenario('credentialExfiltration');
    const arn = finding.arn!.replace('111122223333', '999999999999');

    expect(outOfScopeReason(finding, targetOf(finding, 'finding', finding.id, { arn }))).toContain(
      'is in account "999999999999"',
    );
  });

  it('accepts the notify target of a real finding whose ARN names another region (shared sample 51)', () => {
    const finding = normalizeFinding(elasticRaw('51-policy-iamuser-rootcredentialusage.json'));

    expect(outOfScopeReason(finding, notifyTarget(finding))).toBeUndefined();
  });

  it('escapes control characters in what it quotes', () => {
    const finding = scenario('credentialExfiltration', (detail) => {
      setAt(
        detail,
        ['resource', 'instanceDetails', 'networkInterfaces', 0, 'securityGroups', 0, 'groupId'],
        'sg-1\u001b[2J\nforged',
      );
    });

    const reason = outOfScopeReason(finding, instanceTarget(finding))!;

    expect(reason).toContain('"sg-1\\u001b[2J\\nforged"');
    expect(reason).toMatch(/^[\x20-\x7e]*$/);
  });
});

describe('outOfScopeReason: cost', () => {
  it('checks 10,000 targets in well under a second', () => {
    const finding = scenario('credentialExfiltration');
    const targets = [instanceTarget(finding), roleTarget(finding), notifyTarget(finding)];

    const started = performance.now();
    for (let i = 0; i < 10_000; i += 1) outOfScopeReason(finding, targets[i % targets.length]!);

    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
