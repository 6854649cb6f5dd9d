import { describe, expect, it } from 'vitest';
import { AdapterConfigurationError, readConfig } from '../../src/index.js';

const WEBHOOK = 'https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX';

describe('readConfig', () => {
  it('defaults to dry-run, bundled playbooks, memory idempotency and info logs', () => {
    expect(readConfig({})).toEqual({
      mode: 'dry-run',
      logLevel: 'info',
      accounts: [],
      protectedPrincipals: [],
      maxTargetsPerHour: 50,
      maxFindingAgeSeconds: 604_800,
      historyTtlDays: 400,
      approvalTimeoutHours: 24,
    });
  });

  it('reads every setting when all are valid', () => {
    const config = readConfig({
      RIPOSTE_MODE: 'enforce',
      RIPOSTE_PLAYBOOKS: '/opt/playbooks',
      RIPOSTE_IDEMPOTENCY_TABLE: 'riposte-idempotency',
      RIPOSTE_MEMBER_ROLE: 'security/riposte-member',
      RIPOSTE_SNS_TOPIC_ARN: 'arn:aws:sns:us-east-1:111122223333:security-alerts',
      RIPOSTE_WEBHOOK_URL: WEBHOOK,
      LOG_LEVEL: 'DEBUG',
      RIPOSTE_ACCOUNTS: '111122223333, 444455556666',
      RIPOSTE_ORGANIZATION_ID: 'o-a1b2c3d4e5',
      RIPOSTE_PROTECTED_PRINCIPALS: 'breakglass-admin,arn:aws:iam::*:role/incident-*',
      RIPOSTE_MAX_TARGETS_PER_HOUR: '20',
      RIPOSTE_MAX_FINDING_AGE: '2d',
      RIPOSTE_HISTORY_TABLE: 'riposte-history',
      RIPOSTE_HISTORY_BUCKET: 'security-archive.example-org',
      RIPOSTE_HISTORY_TTL_DAYS: '730',
      RIPOSTE_APPROVAL_TIMEOUT_HOURS: '4',
    });

    expect(config).toEqual({
      mode: 'enforce',
      playbooksDir: '/opt/playbooks',
      idempotencyTable: 'riposte-idempotency',
      memberRole: 'security/riposte-member',
      snsTopicArn: 'arn:aws:sns:us-east-1:111122223333:security-alerts',
      webhookUrl: WEBHOOK,
      logLevel: 'debug',
      accounts: ['111122223333', '444455556666'],
      organizationId: 'o-a1b2c3d4e5',
      protectedPrincipals: ['breakglass-admin', 'arn:aws:iam::*:role/incident-*'],
      maxTargetsPerHour: 20,
      maxFindingAgeSeconds: 172_800,
      historyTable: 'riposte-history',
      historyBucket: 'security-archive.example-org',
      historyTtlDays: 730,
      approvalTimeoutHours: 4,
    });
  });

  it('treats blank variables as unset, as CloudFormation writes empty parameters', () => {
    expect(
      readConfig({
        RIPOSTE_MODE: '',
        RIPOSTE_MEMBER_ROLE: ' ',
        RIPOSTE_SNS_TOPIC_ARN: '',
        RIPOSTE_ACCOUNTS: '',
      }),
    ).toEqual({
      mode: 'dry-run',
      logLevel: 'info',
      accounts: [],
      protectedPrincipals: [],
      maxTargetsPerHour: 50,
      maxFindingAgeSeconds: 604_800,
      historyTtlDays: 400,
      approvalTimeoutHours: 24,
    });
  });

  it('reads RIPOSTE_MEMBER_EXTERNAL_ID with a member role', () => {
    const externalId = 'riposte:o-a1b2c3d4e5/ext@id=1,2.3+4-5_6';

    const config = readConfig({
      RIPOSTE_MEMBER_ROLE: 'riposte-member',
      RIPOSTE_ACCOUNTS: '444455556666',
      RIPOSTE_MEMBER_EXTERNAL_ID: externalId,
    });

    expect(config.memberExternalId).toBe(externalId);
    expect(readConfig({ RIPOSTE_MEMBER_EXTERNAL_ID: '' }).memberExternalId).toBeUndefined();
  });

  it.each([
    ['one character', 'x', /must be 2 to 1224/],
    ['a space', 'two words', /must be 2 to 1224/],
    ['1225 characters', 'x'.repeat(1225), /must be 2 to 1224/],
  ])('refuses a member external id with %s, without quoting it', (_, externalId, message) => {
    const env = { RIPOSTE_MEMBER_ROLE: 'riposte-member', RIPOSTE_ACCOUNTS: '444455556666' };

    expect(() => readConfig({ ...env, RIPOSTE_MEMBER_EXTERNAL_ID: externalId })).toThrow(
      expect.objectContaining({
        problems: [{ variable: 'RIPOSTE_MEMBER_EXTERNAL_ID', message: expect.stringMatching(message) }],
        message: expect.not.stringContaining(externalId),
      }),
    );
  });

  it('refuses a member external id without a member role to send it with', () => {
    expect(() => readConfig({ RIPOSTE_MEMBER_EXTERNAL_ID: 'riposte-external' })).toThrow(
      expect.objectContaining({
        problems: [
          { variable: 'RIPOSTE_MEMBER_EXTERNAL_ID', message: expect.stringMatching(/RIPOSTE_MEMBER_ROLE/) },
        ],
      }),
    );
  });

  it('accepts a table ARN for RIPOSTE_IDEMPOTENCY_TABLE', () => {
    const arn = 'arn:aws:dynamodb:us-east-1:111122223333:table/riposte-idempotency';

    expect(readConfig({ RIPOSTE_IDEMPOTENCY_TABLE: arn }).idempotencyTable).toBe(arn);
  });

  it.each([
    ['RIPOSTE_MODE', 'yolo', /must be "dry-run" or "enforce", not "yolo"/],
    ['RIPOSTE_MODE', 'Enforce', /not "Enforce"/],
    ['RIPOSTE_IDEMPOTENCY_TABLE', 'a b', /not a DynamoDB table name/],
    ['RIPOSTE_HISTORY_TABLE', 'a b', /not a DynamoDB table name/],
    ['RIPOSTE_HISTORY_BUCKET', 'Upper_Case', /not an S3 bucket name/],
    ['RIPOSTE_HISTORY_BUCKET', 'a..b', /not an S3 bucket name/],
    ['RIPOSTE_HISTORY_TTL_DAYS', '0', /whole number of days from 1 to 3650/],
    ['RIPOSTE_HISTORY_TTL_DAYS', '400d', /whole number of days/],
    ['RIPOSTE_APPROVAL_TIMEOUT_HOURS', '721', /whole number of hours from 1 to 720/],
    ['RIPOSTE_MEMBER_ROLE', 'arn:aws:iam::111122223333:role/riposte', /the role's name, not its ARN/],
    ['RIPOSTE_MEMBER_ROLE', 'role with spaces', /not an IAM role name/],
    ['RIPOSTE_SNS_TOPIC_ARN', 'security-alerts', /not an SNS topic ARN/],
    ['RIPOSTE_WEBHOOK_URL', 'http://hooks.example.com/x', /must be an https:\/\/ URL/],
    ['LOG_LEVEL', 'verbose', /must be one of fatal, error, warn, info, debug, trace, silent/],
    ['RIPOSTE_ACCOUNTS', '11112222333*', /is not a 12-digit account id/],
    ['RIPOSTE_ORGANIZATION_ID', 'org-1', /is not an organization id/],
    ['RIPOSTE_MEMBER_ROLE', 'riposte-member', /needs RIPOSTE_ACCOUNTS and\/or RIPOSTE_ORGANIZATION_ID/],
    ['RIPOSTE_PROTECTED_PRINCIPALS', 'a b', /neither a principal name nor an IAM\/STS ARN pattern/],
    ['RIPOSTE_MAX_TARGETS_PER_HOUR', '0', /whole number from 1 to 10000/],
    ['RIPOSTE_MAX_FINDING_AGE', '31d', /under the 30-day idempotency TTL/],
    ['RIPOSTE_MAX_FINDING_AGE', 'soon', /must be a duration/],
  ])('refuses %s=%s', (variable, value, message) => {
    const error = (() => {
      try {
        readConfig({ [variable]: value });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(AdapterConfigurationError);
    expect((error as AdapterConfigurationError).code).toBe('LAMBDA_CONFIG_INVALID');
    expect((error as AdapterConfigurationError).problems).toEqual([
      { variable, message: expect.stringMatching(message) },
    ]);
  });

  it('reports every problem at once', () => {
    expect(() =>
      readConfig({ RIPOSTE_MODE: 'on', LOG_LEVEL: 'loud', RIPOSTE_SNS_TOPIC_ARN: 'topic' }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          expect.objectContaining({ variable: 'RIPOSTE_MODE' }),
          expect.objectContaining({ variable: 'RIPOSTE_SNS_TOPIC_ARN' }),
          expect.objectContaining({ variable: 'LOG_LEVEL' }),
        ],
      }),
    );
  });

  it('never quotes a refused webhook URL, which carries its own secret', () => {
    const secret = 'http://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX';

    expect(() => readConfig({ RIPOSTE_WEBHOOK_URL: secret })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('XXXXXXXX') }),
    );
  });
});
