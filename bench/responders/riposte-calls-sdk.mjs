// The AWS calls Riposte makes for the canonical finding (verify, look up, preserve, contain, notify),
// made straight on the AWS SDK v3 with none of Riposte's own code, as a cold-start reference: the least
// a response that makes these calls through the SDK can cost. Lookups and preserve steps run at once
// where Riposte runs them at once. The bench checks that it makes the same calls as the function, so
// the two cannot drift apart. A yardstick that trusts the event, never a responder to deploy.

import {
  CreateTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeTagsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetFindingsCommand, GuardDutyClient } from '@aws-sdk/client-guardduty';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
} from '@aws-sdk/client-iam';
import { GetFindingsCommand as GetHubFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

const REVOKE_POLICY = 'RiposteRevokeInstance';
const TAG_KEYS = ['riposte:finding-id', 'riposte:finding-type', 'riposte:tagged-at'];

// As the function does at initialisation: who am I.
const identity = await new STSClient({}).send(new GetCallerIdentityCommand({}));

/**
 * A read Riposte expects may find nothing (an absent inline policy, Security Hub not enabled in the
 * account): its error is an answer.
 */
const absentAllowed = (promise) => promise.catch((error) => ({ absent: error.name }));

export const handler = async (event) => {
  const finding = event.detail;
  const region = finding.region;
  const instanceId = finding.resource.instanceDetails.instanceId;
  const roleName = finding.resource.accessKeyDetails.userName;
  const ec2 = new EC2Client({});
  const iam = new IAMClient({});

  await new GuardDutyClient({}).send(
    new GetFindingsCommand({ DetectorId: finding.service.detectorId, FindingIds: [finding.id] }),
  );
  const [associations] = await Promise.all([
    ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [
          { Name: 'instance-id', Values: [instanceId] },
          { Name: 'state', Values: ['associated'] },
        ],
      }),
    ),
    ec2.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: 'resource-id', Values: [instanceId] },
          { Name: 'key', Values: TAG_KEYS },
        ],
      }),
    ),
    iam.send(new ListRoleTagsCommand({ RoleName: roleName })),
    absentAllowed(
      iam.send(
        new GetRolePolicyCommand({ RoleName: roleName, PolicyName: `${REVOKE_POLICY}-${instanceId}` }),
      ),
    ),
    absentAllowed(
      iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'AWSRevokeOlderSessions' })),
    ),
    iam.send(new GetRoleCommand({ RoleName: roleName })),
    absentAllowed(
      new SecurityHubClient({}).send(
        new GetHubFindingsCommand({
          Filters: {
            Id: [{ Value: finding.arn, Comparison: 'EQUALS' }],
            ProductArn: [
              { Value: `arn:aws:securityhub:${region}::product/aws/guardduty`, Comparison: 'EQUALS' },
            ],
          },
          MaxResults: 1,
        }),
      ),
    ),
  ]);
  const taggedAt = new Date().toISOString();
  const tags = [
    { Key: TAG_KEYS[0], Value: finding.id },
    { Key: TAG_KEYS[1], Value: finding.type },
    { Key: TAG_KEYS[2], Value: taggedAt },
  ];
  await Promise.all([
    ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: tags })),
    iam.send(new TagRoleCommand({ RoleName: roleName, Tags: tags })),
  ]);
  for (const { AssociationId } of associations.IamInstanceProfileAssociations ?? []) {
    await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId }));
  }
  await iam.send(new GetRoleCommand({ RoleName: roleName }));
  await iam.send(new ListRoleTagsCommand({ RoleName: roleName }));
  const instanceArn = `arn:aws:ec2:${region}:${finding.accountId}:instance/${instanceId}`;
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: `${REVOKE_POLICY}-${instanceId}`,
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Deny',
            Action: ['*'],
            Resource: ['*'],
            Condition: {
              StringEquals: { 'ec2:SourceInstanceARN': instanceArn },
              DateLessThan: { 'aws:TokenIssueTime': taggedAt },
            },
          },
        ],
      }),
    }),
  );
  await new SNSClient({}).send(
    new PublishCommand({
      TopicArn: process.env.RIPOSTE_SNS_TOPIC_ARN,
      Subject: `GuardDuty finding ${finding.type}`.slice(0, 100),
      Message: `${finding.title}\n${finding.description}\nFinding: ${finding.arn}`,
    }),
  );
  return { finding: finding.id, account: identity.Account };
};
