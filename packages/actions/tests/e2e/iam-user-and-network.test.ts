import {
  createEngine,
  type EngineMode,
  executeUndo,
  type Finding,
  parsePlaybooks,
  planUndo,
  type Report,
} from '@riposte/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_CREDENTIALS,
  type FakeAccountSeed,
  type FakeAws,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import { userRevokePolicyDocument } from '../../src/actions/revoke-user-sessions.js';
import { type AwsServices, createAwsServices } from '../../src/clients.js';
import { createRegistry } from '../../src/registry.js';
import { ACCOUNT, commandAndControl, INSTANCE_ID, maliciousIpCaller, REGION } from '../helpers/findings.js';

/**
 * revoke-user-sessions, quarantine-user and block-actor-ip end to end: the engine runs a playbook of
 * each against the local endpoint (the real IAM, EC2 and WAFV2 SDK clients), on the GuardDuty samples'
 * MaliciousIPCaller (IAM user ci-deployer, from 81.2.69.144) and C&CActivity.B (instance
 * i-0a1b2c3d4e5f67890, talking to 81.2.69.144); then core's planUndo/executeUndo reverse each from
 * what its step recorded, and the account compares equal to what it was before.
 */

const USER = 'ci-deployer';
const VPC = 'vpc-06b1f2a3c4d5e6f70';
const SUBNET = 'subnet-0a9b8c7d6e5f40312';
const ACL = 'acl-06b1f2a3c4d5e6f70';
const IP_SET_NAME = 'riposte-blocked';
const IP_SET_ID = 'a1b2c3d4-5678-90ab-cdef-0123456789ab';
const IP_SET_ARN = `arn:aws:wafv2:${REGION}:${ACCOUNT}:regional/ipset/${IP_SET_NAME}/${IP_SET_ID}`;
const V3 = 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3';
const ATTACKER = '81.2.69.144';
const RESPONSE_TIME = new Date('2026-11-27T18:30:00.000Z');

/** The account the samples name: the user with its key, the instance in its subnet, the ACL and the IP set. */
const SEED: FakeAccountSeed = {
  accountId: ACCOUNT,
  region: REGION,
  users: [{ name: USER, accessKeys: [{ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', status: 'Active' }] }],
  securityGroups: [{ groupId: 'sg-0123456789abcdef0', groupName: 'app-server', vpcId: VPC }],
  instances: [
    {
      instanceId: INSTANCE_ID,
      vpcId: VPC,
      subnetId: SUBNET,
      privateIpAddress: '10.0.0.1',
      tags: { Name: 'app-server', environment: 'production' },
      networkInterfaces: [{ networkInterfaceId: 'eni-0bfcffe880000001', groupIds: ['sg-0123456789abcdef0'] }],
      volumes: [{ volumeId: 'vol-0a1b2c3d4e5f60001', deviceName: '/dev/xvda' }],
    },
  ],
  networkAcls: [{ networkAclId: ACL, vpcId: VPC, isDefault: true, subnetIds: [SUBNET] }],
  wafIpSets: [
    {
      name: IP_SET_NAME,
      id: IP_SET_ID,
      addresses: ['198.51.100.7/32'],
      description: 'Addresses blocked by the incident response',
    },
  ],
};

const registry = createRegistry();

const servicesFor = (aws: FakeAws): AwsServices =>
  createAwsServices({
    clientConfig: { endpoint: aws.url, maxAttempts: 1 },
    credentialsFor: () => async () => ({ ...FAKE_CREDENTIALS }),
    env: {},
  });

let fake: FakeAws | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const account = async (seed: Partial<FakeAccountSeed> = {}): Promise<FakeAws> => {
  fake = await startFakeAws({ seed: { ...SEED, ...seed } });
  return fake;
};

/** A playbook of one step, matching the finding's type (the helpers' findings are GuardDuty samples). */
const playbook = (finding: Finding, step: string) =>
  parsePlaybooks(
    `name: e2e\nmatch: { types: ["${finding.type.name}"], sample: true }\nactions:\n${step}`,
    'iam-user-and-network.yaml',
    { registry },
  );

const respond = (
  aws: FakeAws,
  finding: Finding,
  step: string,
  mode: EngineMode = 'enforce',
): Promise<Report> =>
  createEngine({
    playbooks: playbook(finding, step),
    registry,
    mode,
    clock: () => RESPONSE_TIME,
    services: servicesFor(aws),
  }).handle(finding);

const undo = async (aws: FakeAws, report: Report): Promise<Report> => {
  const options = { registry, servicesFor: () => servicesFor(aws), mode: 'enforce' as const };
  const plan = await planUndo(report, report.steps, options);
  return executeUndo(plan, report.steps, options);
};

const mutations = (aws: FakeAws) => aws.mutatingCalls().map((call) => `${call.service} ${call.operation}`);

const WAF_STEP = `  - action: block-actor-ip\n    params: { via: waf, ipSetName: ${IP_SET_NAME}, ipSetId: ${IP_SET_ID} }\n`;
const NACL_STEP = '  - action: block-actor-ip\n    params: { via: nacl }\n';

describe('revoke-user-sessions against the local endpoint', () => {
  it("denies the user's older sessions, is a no-op the second time, and the undo deletes exactly that policy", async () => {
    const aws = await account();
    const before = aws.snapshot();

    const report = await respond(aws, maliciousIpCaller(), '  - action: revoke-user-sessions\n');

    expect(report.steps.map((step) => [step.action, step.status])).toEqual([
      ['revoke-user-sessions', 'applied'],
    ]);
    expect(mutations(aws)).toEqual(['IAM PutUserPolicy']);
    expect(aws.snapshot().userPolicies[USER]?.inlinePolicies).toEqual({
      RiposteRevokeOlderSessions: userRevokePolicyDocument(RESPONSE_TIME),
    });
    const again = await respond(aws, maliciousIpCaller(), '  - action: revoke-user-sessions\n');
    expect(again.steps[0]?.status).toBe('no-op');
    expect(mutations(aws)).toEqual(['IAM PutUserPolicy']);

    const undone = await undo(aws, report);

    expect(undone.steps.map((step) => [step.action, step.status])).toEqual([
      ['revoke-user-sessions', 'applied'],
    ]);
    expect(mutations(aws)).toEqual(['IAM PutUserPolicy', 'IAM DeleteUserPolicy']);
    expect(aws.snapshot()).toEqual(before);
  });

  it('puts back the earlier revocation it replaced', async () => {
    const earlier = userRevokePolicyDocument(new Date('2021-06-01T00:00:00.000Z'));
    const aws = await account({
      users: [{ name: USER, inlinePolicies: { RiposteRevokeOlderSessions: earlier } }],
    });
    const before = aws.snapshot();

    const report = await respond(aws, maliciousIpCaller(), '  - action: revoke-user-sessions\n');
    expect(report.steps[0]?.status).toBe('applied');
    expect(aws.snapshot()).not.toEqual(before);

    const undone = await undo(aws, report);

    expect(undone.steps[0]?.status).toBe('applied');
    expect(mutations(aws)).toEqual(['IAM PutUserPolicy', 'IAM PutUserPolicy']);
    expect(aws.snapshot()).toEqual(before);
  });
});

describe('quarantine-user against the local endpoint', () => {
  it("attaches AWS's quarantine policy V3, and the undo detaches it", async () => {
    const aws = await account();
    const before = aws.snapshot();

    const report = await respond(aws, maliciousIpCaller(), '  - action: quarantine-user\n');

    expect(report.steps.map((step) => [step.action, step.status])).toEqual([['quarantine-user', 'applied']]);
    expect(aws.snapshot().userPolicies[USER]?.attachedPolicyArns).toEqual([V3]);
    expect(mutations(aws)).toEqual(['IAM AttachUserPolicy']);

    const undone = await undo(aws, report);

    expect(undone.steps[0]?.status).toBe('applied');
    expect(mutations(aws)).toEqual(['IAM AttachUserPolicy', 'IAM DetachUserPolicy']);
    expect(aws.snapshot()).toEqual(before);
  });

  it('leaves a policy attached before the response in place, and the undo leaves it too', async () => {
    const aws = await account({ users: [{ name: USER, attachedPolicyArns: [V3] }] });
    const before = aws.snapshot();

    const report = await respond(aws, maliciousIpCaller(), '  - action: quarantine-user\n');
    const undone = await undo(aws, report);

    expect(report.steps[0]?.status).toBe('no-op');
    expect(undone.steps.every((step) => step.status !== 'applied')).toBe(true);
    expect(mutations(aws)).toEqual([]);
    expect(aws.snapshot()).toEqual(before);
  });
});

describe('block-actor-ip against the local endpoint', () => {
  it("adds the actor's address to the WAF IP set with its lock token, and the undo removes exactly it", async () => {
    const aws = await account();
    const before = aws.snapshot();

    const report = await respond(aws, maliciousIpCaller(), WAF_STEP);

    expect(report.steps.map((step) => [step.action, step.status])).toEqual([['block-actor-ip', 'applied']]);
    expect(aws.snapshot().wafIpSets[IP_SET_ARN]).toEqual({
      ipAddressVersion: 'IPV4',
      addresses: ['198.51.100.7/32', `${ATTACKER}/32`],
      description: 'Addresses blocked by the incident response',
    });
    expect(mutations(aws)).toEqual(['WAFV2 UpdateIPSet']);
    const again = await respond(aws, maliciousIpCaller(), WAF_STEP);
    expect(again.steps[0]?.status).toBe('no-op');

    const undone = await undo(aws, report);

    expect(undone.steps[0]?.status).toBe('applied');
    expect(mutations(aws)).toEqual(['WAFV2 UpdateIPSet', 'WAFV2 UpdateIPSet']);
    expect(aws.calls.filter((call) => call.errorCode !== undefined)).toEqual([]);
    expect(aws.snapshot()).toEqual(before);
  });

  it("denies the address both ways in the instance's subnet ACL, and the undo deletes exactly those entries", async () => {
    const aws = await account();
    const before = aws.snapshot();

    const report = await respond(aws, commandAndControl(), NACL_STEP);

    expect(report.steps.map((step) => [step.action, step.status])).toEqual([['block-actor-ip', 'applied']]);
    const deny = { cidrBlock: `${ATTACKER}/32`, protocol: '-1', ruleAction: 'deny', ruleNumber: 50 };
    expect(aws.snapshot().networkAcls[ACL]?.entries).toEqual([
      { ...deny, egress: true },
      { cidrBlock: '0.0.0.0/0', egress: true, protocol: '-1', ruleAction: 'allow', ruleNumber: 100 },
      { cidrBlock: '0.0.0.0/0', egress: true, protocol: '-1', ruleAction: 'deny', ruleNumber: 32767 },
      { ...deny, egress: false },
      { cidrBlock: '0.0.0.0/0', egress: false, protocol: '-1', ruleAction: 'allow', ruleNumber: 100 },
      { cidrBlock: '0.0.0.0/0', egress: false, protocol: '-1', ruleAction: 'deny', ruleNumber: 32767 },
    ]);
    expect(mutations(aws)).toEqual(['EC2 CreateNetworkAclEntry', 'EC2 CreateNetworkAclEntry']);
    const again = await respond(aws, commandAndControl(), NACL_STEP);
    expect(again.steps[0]?.status).toBe('no-op');

    const undone = await undo(aws, report);

    expect(undone.steps[0]?.status).toBe('applied');
    expect(mutations(aws).slice(2)).toEqual(['EC2 DeleteNetworkAclEntry', 'EC2 DeleteNetworkAclEntry']);
    expect(aws.snapshot()).toEqual(before);
  });

  it('takes the next free rule number when 50 is taken', async () => {
    const aws = await account({
      networkAcls: [
        {
          networkAclId: ACL,
          vpcId: VPC,
          isDefault: true,
          subnetIds: [SUBNET],
          entries: [
            {
              ruleNumber: 50,
              egress: false,
              protocol: '6',
              ruleAction: 'allow',
              cidrBlock: '10.0.0.0/8',
              portRange: { from: 22, to: 22 },
            },
            { ruleNumber: 100, egress: false, protocol: '-1', ruleAction: 'allow', cidrBlock: '0.0.0.0/0' },
            { ruleNumber: 100, egress: true, protocol: '-1', ruleAction: 'allow', cidrBlock: '0.0.0.0/0' },
          ],
        },
      ],
    });

    const report = await respond(aws, commandAndControl(), NACL_STEP);

    expect(report.steps[0]?.status).toBe('applied');
    expect(aws.mutatingCalls().map((call) => call.params.RuleNumber)).toEqual(['51', '51']);
  });
});

describe('dry-run against the local endpoint', () => {
  it('plans each of the three actions with the exact calls and makes no mutating call', async () => {
    const aws = await account();
    const before = aws.snapshot();

    const users = await respond(
      aws,
      maliciousIpCaller(),
      `  - action: revoke-user-sessions\n  - action: quarantine-user\n${WAF_STEP}`,
      'dry-run',
    );
    const network = await respond(aws, commandAndControl(), NACL_STEP, 'dry-run');

    const planned = [...users.steps, ...network.steps].map((step) => [
      step.action,
      step.status,
      step.calls?.map((call) => call.operation),
    ]);
    expect(planned).toEqual([
      ['revoke-user-sessions', 'dry-run', ['PutUserPolicy']],
      ['quarantine-user', 'dry-run', ['AttachUserPolicy']],
      ['block-actor-ip', 'dry-run', ['UpdateIPSet']],
      ['block-actor-ip', 'dry-run', ['CreateNetworkAclEntry', 'CreateNetworkAclEntry']],
    ]);
    expect(aws.mutatingCalls()).toEqual([]);
    expect(aws.calls.map((call) => `${call.service} ${call.operation}`)).toEqual(
      expect.arrayContaining([
        'IAM GetUserPolicy',
        'IAM ListAttachedUserPolicies',
        'WAFV2 GetIPSet',
        'EC2 DescribeNetworkAcls',
      ]),
    );
    expect(aws.snapshot()).toEqual(before);
  });
});
