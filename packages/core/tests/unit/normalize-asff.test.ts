import { readFileSync } from 'node:fs';
import { FindingFormatError } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { findingTypeFromAsffType, normalize, normalizeFinding } from '../../src/normalize/index.js';

type Json = Record<string, unknown>;

const FIXTURES = new URL('../fixtures/findings/cloud-custodian/', import.meta.url);

/** The Security Hub custom-action event wrapping one GuardDuty ASFF finding. */
const customActionEvent = (): Json =>
  JSON.parse(
    readFileSync(
      new URL('03-asff-securityhub-custom-action-unauthorizedaccess-iamuser-consolelogin.json', FIXTURES),
      'utf8',
    ),
  );

/** A bare GuardDuty ASFF finding, as Security Hub's GetFindings returns it. */
const reconFinding = (): Json =>
  JSON.parse(readFileSync(new URL('04-asff-recon-iamuser-resourcepermissions.json', FIXTURES), 'utf8'));

const findingsOf = (event: Json): Json[] => (event.detail as { findings: Json[] }).findings;

/** An ASFF finding of another product (Security Hub's own CIS check) in the same account. */
const configFinding = (): Json => ({
  SchemaVersion: '2018-10-08',
  Id: 'arn:aws:securityhub:us-east-1:644160558196:subscription/cis-aws-foundations-benchmark/v/1.2.0/2.1/finding/0a1b2c3d',
  ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
  GeneratorId: 'arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/2.1',
  AwsAccountId: '644160558196',
  Types: [
    'Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark',
  ],
  CreatedAt: '2019-06-12T15:34:50.346Z',
  UpdatedAt: '2019-06-12T15:34:50.346Z',
  Severity: { Product: 0, Normalized: 0 },
  Title: '2.1 Ensure CloudTrail is enabled in all regions',
  Resources: [
    { Type: 'AwsAccount', Id: 'AWS::::Account:644160558196', Partition: 'aws', Region: 'us-east-1' },
  ],
  RecordState: 'ACTIVE',
});

describe('Security Hub events', () => {
  it('normalizes the GuardDuty finding of a custom-action event', () => {
    const event = customActionEvent();

    const finding = normalizeFinding(event);

    expect(finding).toMatchObject({
      id: '4cb5a629e9757b650d102f683cdbcd7b',
      arn: 'arn:aws:guardduty:us-east-1:644160558196:detector/06b01209ca77b0865dd973df0355fc1e/finding/4cb5a629e9757b650d102f683cdbcd7b',
      type: {
        name: 'UnauthorizedAccess:IAMUser/ConsoleLogin',
        threatPurpose: 'UnauthorizedAccess',
        resourceType: 'IAMUser',
      },
      severity: 5,
      severityLabel: 'Medium',
      accountId: '644160558196',
      region: 'us-east-1',
      partition: 'aws',
      createdAt: '2019-06-12T15:34:50.346Z',
      firstSeen: '2019-06-12T15:11:20.000Z',
      lastSeen: '2019-06-12T15:12:40.000Z',
      count: 1,
      archived: false,
      sample: false,
      resourceRole: 'TARGET',
      resourceType: 'AccessKey',
      source: 'securityhub-asff',
    });
    expect(finding.resources).toEqual([
      {
        kind: 'access-key',
        accessKeyId: undefined,
        principalId: undefined,
        userType: 'Unknown',
        userName: 'kapil',
      },
    ]);
    expect(finding.actor).toEqual({
      actionType: 'AWS_API_CALL',
      api: 'ConsoleLogin',
      serviceName: 'signin.amazonaws.com',
      callerType: 'Remote IP',
      remoteIp: '208.115.85.104',
      remoteIps: ['208.115.85.104'],
      country: 'United States',
      city: 'Washington',
      asn: '26925',
      asnOrg: 'Smart City Networks, L.P.',
      isp: 'Smart City Networks, L.P.',
      org: 'Smart City Networks, L.P.',
    });
    expect(finding.raw).toBe(findingsOf(event)[0]);
  });

  it('returns every finding an event carries, in order', () => {
    const event = customActionEvent();
    findingsOf(event).push(reconFinding());

    const findings = normalize({ ...event, 'detail-type': 'Security Hub Findings - Imported' });

    expect(findings.map((finding) => finding.type.name)).toEqual([
      'UnauthorizedAccess:IAMUser/ConsoleLogin',
      'Recon:IAMUser/ResourcePermissions',
    ]);
    expect(findings.map((finding) => finding.id)).toEqual([
      '4cb5a629e9757b650d102f683cdbcd7b',
      'f6b5c52d7a829ed112f7556dd1cc40c4',
    ]);
  });

  it('skips findings of other products when the event also carries GuardDuty ones', () => {
    const event = customActionEvent();
    findingsOf(event).unshift(configFinding());

    expect(normalize(event).map((finding) => finding.id)).toEqual(['4cb5a629e9757b650d102f683cdbcd7b']);
  });

  it('refuses an event that carries no GuardDuty finding, naming the first one', () => {
    const event = customActionEvent();
    (event.detail as Json).findings = [configFinding()];

    expect(() => normalize(event)).toThrow(
      expect.objectContaining({ code: 'FINDING_INVALID', path: '/detail/findings/0/ProductArn' }),
    );
  });
});

describe('bare ASFF findings', () => {
  it('reads the GuardDuty type from Types, the count from ProductFields and the key id from the resource Id', () => {
    const finding = normalizeFinding(reconFinding());

    expect(finding).toMatchObject({
      id: 'f6b5c52d7a829ed112f7556dd1cc40c4',
      type: { name: 'Recon:IAMUser/ResourcePermissions', threatFamily: 'ResourcePermissions' },
      count: 4,
      updatedAt: '2019-06-24T18:06:33.303Z',
    });
    expect(finding.resources).toEqual([
      {
        kind: 'access-key',
        accessKeyId: 'AKIAIPRJCJL6BOF6DPMA',
        principalId: undefined,
        userType: 'Unknown',
        userName: 'brent.clements',
      },
    ]);
    expect(finding.actor).toMatchObject({ api: 'DescribeInstances', remoteIp: '204.63.43.36', asn: '16660' });
  });

  it('reports a finding Security Hub has archived', () => {
    expect(normalizeFinding({ ...reconFinding(), RecordState: 'ARCHIVED' }).archived).toBe(true);
  });

  it.each([
    [{ Product: 5, Normalized: 50 }, 5],
    [{ Original: '8', Label: 'HIGH', Normalized: 70 }, 8],
    [{ Label: 'CRITICAL', Normalized: 90 }, 9],
    [{ Label: 'LOW' }, 2],
    [{ Normalized: 70 }, 7],
  ])('takes the GuardDuty severity from %j as %d', (severity, expected) => {
    expect(normalizeFinding({ ...reconFinding(), Severity: severity }).severity).toBe(expected);
  });

  it('reads a current GuardDuty ASFF finding: prefixed ProductFields, structured Action, instance resource, Sample', () => {
    const base = reconFinding();
    const finding = normalizeFinding({
      ...base,
      Types: ['TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS'],
      Region: 'us-east-1',
      Sample: true,
      Severity: { Label: 'HIGH', Normalized: 60, Product: 8 },
      Action: {
        ActionType: 'DNS_REQUEST',
        DnsRequestAction: { Domain: 'c2.example.com', Protocol: 'UDP', Blocked: false },
      },
      ProductFields: {
        'aws/guardduty/service/action/actionType': 'DNS_REQUEST',
        'aws/guardduty/service/action/dnsRequestAction/domain': 'c2.example.com',
        'aws/guardduty/service/archived': 'false',
        'aws/guardduty/service/count': '5',
        'aws/guardduty/service/resourceRole': 'TARGET',
        'aws/securityhub/ProductName': 'GuardDuty',
      },
      Resources: [
        {
          Type: 'AwsEc2Instance',
          Id: 'arn:aws:ec2:us-east-1:644160558196:instance/i-0123456789abcdef0',
          Partition: 'aws',
          Region: 'us-east-1',
          Tags: { Name: 'web-1', Environment: 'dev' },
          Details: {
            AwsEc2Instance: {
              Type: 't3.medium',
              VpcId: 'vpc-0123456789abcdef0',
              SubnetId: 'subnet-0123456789abcdef0',
              LaunchedAt: '2024-05-01T00:00:00.000Z',
              IamInstanceProfileArn: 'arn:aws:iam::644160558196:instance-profile/web',
            },
          },
        },
      ],
    });

    expect(finding).toMatchObject({
      type: { name: 'Backdoor:EC2/C&CActivity.B!DNS', artifact: 'DNS' },
      severity: 8,
      severityLabel: 'High',
      count: 5,
      sample: true,
      resourceType: 'Instance',
      actor: { actionType: 'DNS_REQUEST', domain: 'c2.example.com', protocol: 'UDP' },
    });
    expect(finding.resources).toEqual([
      expect.objectContaining({
        kind: 'instance',
        instanceId: 'i-0123456789abcdef0',
        arn: 'arn:aws:ec2:us-east-1:644160558196:instance/i-0123456789abcdef0',
        role: 'resource',
        tags: { Name: 'web-1', Environment: 'dev' },
        vpcId: 'vpc-0123456789abcdef0',
        instanceType: 't3.medium',
        instanceProfile: { arn: 'arn:aws:iam::644160558196:instance-profile/web' },
        launchTime: '2024-05-01T00:00:00.000Z',
      }),
    ]);
    expect(finding.techniques.map((technique) => technique.id)).toContain('T1071.004');
  });

  it('marks the instance of an ASFF InstanceCredentialExfiltration finding as the credential source', () => {
    const finding = normalizeFinding({
      ...reconFinding(),
      Types: ['TTPs/Initial Access/UnauthorizedAccess:IAMUser-InstanceCredentialExfiltration.OutsideAWS'],
      Resources: [
        {
          Type: 'AwsIamAccessKey',
          Id: 'AWS::IAM::AccessKey:ASIAEXAMPLEKEYID0001',
          Region: 'us-east-1',
          Details: {
            AwsIamAccessKey: {
              PrincipalId: 'AROAEXAMPLEROLEID0001:i-0abc123def4567890',
              PrincipalType: 'AssumedRole',
              PrincipalName: 'app-server-role',
            },
          },
        },
        {
          Type: 'AwsEc2Instance',
          Id: 'arn:aws:ec2:us-east-1:644160558196:instance/i-0abc123def4567890',
          Region: 'us-east-1',
        },
      ],
    });

    expect(finding.resources).toEqual([
      {
        kind: 'access-key',
        accessKeyId: 'ASIAEXAMPLEKEYID0001',
        principalId: 'AROAEXAMPLEROLEID0001:i-0abc123def4567890',
        userType: 'AssumedRole',
        userName: 'app-server-role',
        roleName: 'app-server-role',
        sessionName: 'i-0abc123def4567890',
      },
      expect.objectContaining({
        kind: 'instance',
        instanceId: 'i-0abc123def4567890',
        role: 'credential-source',
      }),
    ]);
    expect(finding.techniques.map((technique) => technique.id)).toContain('T1552.005');
  });
});

describe('GuardDuty type from ASFF Types', () => {
  it.each([
    ['TTPs/Discovery/Recon:IAMUser-ResourcePermissions', 'Recon:IAMUser/ResourcePermissions'],
    [
      'Unusual Behaviors/User/UnauthorizedAccess:IAMUser-ConsoleLogin',
      'UnauthorizedAccess:IAMUser/ConsoleLogin',
    ],
    ['TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS', 'Backdoor:EC2/C&CActivity.B!DNS'],
    ['TTPs/PenTest:IAMUser/KaliLinux', 'PenTest:IAMUser/KaliLinux'],
    ['TTPs/AttackSequence:IAM/CompromisedCredentials', 'AttackSequence:IAM/CompromisedCredentials'],
    ['TTPs/Credential Access/IAMUser-AnomalousBehavior', 'CredentialAccess:IAMUser/AnomalousBehavior'],
    ['TTPs/Discovery/RDS-MaliciousIPCaller', 'Discovery:RDS/MaliciousIPCaller'],
    [
      'TTPs/AnomalousBehavior/Execution:Kubernetes-ExecInPod',
      'Execution:Kubernetes/AnomalousBehavior.ExecInPod',
    ],
    [
      'TTPs/Impact/Impact:Runtime-SuspiciousDomainRequest.Reputatio',
      'Impact:Runtime/SuspiciousDomainRequest.Reputation',
    ],
  ])('reads %s as %s', (asffType, type) => {
    expect(findingTypeFromAsffType(asffType)).toBe(type);
  });

  it('finds no type in a category-only entry', () => {
    expect(
      findingTypeFromAsffType('Software and Configuration Checks/AWS Security Best Practices'),
    ).toBeUndefined();
  });

  it('falls back to FindingProviderFields.Types', () => {
    const { Types: _types, ...rest } = reconFinding();
    const finding = normalizeFinding({
      ...rest,
      FindingProviderFields: { Types: ['TTPs/Discovery/Recon:IAMUser-ResourcePermissions'] },
    });

    expect(finding.type.name).toBe('Recon:IAMUser/ResourcePermissions');
  });

  it('refuses a GuardDuty ASFF finding whose Types name no finding type', () => {
    expect(() => normalizeFinding({ ...reconFinding(), Types: ['Effects/Data Exposure'] })).toThrow(
      expect.objectContaining({ path: '/Types' }),
    );
    expect(() => normalizeFinding({ ...reconFinding(), Types: ['Effects/Data Exposure'] })).toThrow(
      FindingFormatError,
    );
  });
});
