import { readFileSync } from 'node:fs';
import {
  type AttributeValue,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type Finding, normalize, type Report, type StepReport } from '@riposte/core';
import { HISTORY_TABLE_SCHEMA, type HistoryRecord } from '../../src/index.js';

/** Creates a history table in dynalite exactly as HISTORY_TABLE_SCHEMA describes it, and waits for it. */
export const createHistoryTable = async (client: DynamoDBClient, name: string): Promise<void> => {
  const { AttributeDefinitions, KeySchema, GlobalSecondaryIndexes } = HISTORY_TABLE_SCHEMA;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions,
      KeySchema,
      GlobalSecondaryIndexes,
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    const indexes = Table?.GlobalSecondaryIndexes ?? [];
    if (Table?.TableStatus === 'ACTIVE' && indexes.every((index) => index.IndexStatus === 'ACTIVE')) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`dynalite table ${name} did not become ACTIVE`);
};

/** Writes an item as is, as someone with write access to the table could (for tests of what is read back). */
export const putRawItem = async (
  client: DynamoDBClient,
  tableName: string,
  item: Record<string, AttributeValue>,
): Promise<void> => {
  await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
};

export const FINDING_ID = '7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01';
export const ACCOUNT = '111122223333';
export const INSTANCE_ID = 'i-0a1b2c3d4e5f67890';
export const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:riposte`;
const TYPE = 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS';
const PLAYBOOK = 'ec2-instance-credential-exfiltration';

/** The canonical scenario's finding, normalized, as a response records it. */
export const scenarioFinding = (): Finding => {
  const event = JSON.parse(
    readFileSync(
      new URL(
        '../../../../examples/scenario/findings/01-instance-credential-exfiltration.json',
        import.meta.url,
      ),
      'utf8',
    ),
  ) as unknown;
  return normalize(event)[0]!;
};

const step = (
  phase: StepReport['phase'],
  action: string,
  calls: StepReport['calls'],
  target: NonNullable<StepReport['target']>,
): StepReport => ({
  key: `${PLAYBOOK}/${action}`,
  playbook: PLAYBOOK,
  stepId: action,
  action,
  phase,
  mode: 'enforce',
  target,
  status: 'applied',
  lookups: [],
  calls,
  durationMs: 212,
});

const instance = { kind: 'instance', id: INSTANCE_ID, label: `EC2 instance ${INSTANCE_ID}` } as const;

/** The report of the scenario's response in enforce: the instance tagged, its profile taken off, sessions revoked. */
export const scenarioReport = (startedAt: string, overrides: Partial<Report> = {}): Report => ({
  findingId: FINDING_ID,
  findingType: TYPE,
  severity: 8,
  severityLabel: 'High',
  accountId: ACCOUNT,
  region: 'us-east-1',
  mode: 'enforce',
  startedAt,
  durationMs: 1_284,
  matched: [
    {
      playbook: PLAYBOOK,
      mode: 'enforce',
      criteria: [
        {
          criterion: 'types',
          detail: `${TYPE} matched UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*`,
        },
      ],
    },
  ],
  steps: [
    step(
      'preserve',
      'tag-resource',
      [
        {
          service: 'EC2',
          operation: 'CreateTags',
          input: {
            Resources: [INSTANCE_ID],
            Tags: [{ Key: 'riposte:finding', Value: FINDING_ID }],
          },
          mutating: true,
          requestId: '5f1c2a4e-9d3b-4c6a-8e2f-1a2b3c4d5e6f',
          durationMs: 187,
        },
      ],
      instance,
    ),
    step(
      'contain',
      'detach-instance-profile',
      [
        {
          service: 'EC2',
          operation: 'DisassociateIamInstanceProfile',
          input: { AssociationId: 'iip-assoc-0123456789abcdef0' },
          mutating: true,
          requestId: '0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f',
          durationMs: 241,
        },
      ],
      instance,
    ),
    step(
      'revoke',
      'revoke-role-sessions',
      [
        {
          service: 'IAM',
          operation: 'PutRolePolicy',
          input: { RoleName: 'app-server-role', PolicyName: 'riposte-revoke-sessions' },
          mutating: true,
          requestId: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
          durationMs: 302,
        },
      ],
      instance,
    ),
  ],
  outcome: 'applied',
  counts: { applied: 3 },
  retryable: false,
  ...overrides,
});

/** A response record of the scenario's finding, at `at`. */
export const historyRecord = (at: string, overrides: Partial<HistoryRecord> = {}): HistoryRecord => ({
  findingId: FINDING_ID,
  kind: 'response',
  id: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  at,
  actor: FUNCTION_ARN,
  accountId: ACCOUNT,
  region: 'us-east-1',
  findingType: TYPE,
  severity: 8,
  mode: 'enforce',
  outcome: 'applied',
  report: scenarioReport(at),
  verification: {
    status: 'verified',
    via: 'own-detector',
    detectorId: '12abc34d567e8fa901bc2d34e56789f0',
    requestIds: ['3e1f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b'],
    durationMs: 96,
  },
  ...overrides,
});
