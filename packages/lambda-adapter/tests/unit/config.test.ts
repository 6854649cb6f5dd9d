import { describe, expect, it } from 'vitest';
import { AdapterConfigurationError, readConfig } from '../../src/index.js';

const WEBHOOK = 'https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX';

describe('readConfig', () => {
  it('defaults to dry-run, bundled playbooks, memory idempotency and info logs', () => {
    expect(readConfig({})).toEqual({ mode: 'dry-run', logLevel: 'info' });
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
    });

    expect(config).toEqual({
      mode: 'enforce',
      playbooksDir: '/opt/playbooks',
      idempotencyTable: 'riposte-idempotency',
      memberRole: 'security/riposte-member',
      snsTopicArn: 'arn:aws:sns:us-east-1:111122223333:security-alerts',
      webhookUrl: WEBHOOK,
      logLevel: 'debug',
    });
  });

  it('treats blank variables as unset, as CloudFormation writes empty parameters', () => {
    expect(readConfig({ RIPOSTE_MODE: '', RIPOSTE_MEMBER_ROLE: ' ', RIPOSTE_SNS_TOPIC_ARN: '' })).toEqual({
      mode: 'dry-run',
      logLevel: 'info',
    });
  });

  it('accepts a table ARN for RIPOSTE_IDEMPOTENCY_TABLE', () => {
    const arn = 'arn:aws:dynamodb:us-east-1:111122223333:table/riposte-idempotency';

    expect(readConfig({ RIPOSTE_IDEMPOTENCY_TABLE: arn }).idempotencyTable).toBe(arn);
  });

  it.each([
    ['RIPOSTE_MODE', 'yolo', /must be "dry-run" or "enforce", not "yolo"/],
    ['RIPOSTE_MODE', 'Enforce', /not "Enforce"/],
    ['RIPOSTE_IDEMPOTENCY_TABLE', 'a b', /not a DynamoDB table name/],
    ['RIPOSTE_MEMBER_ROLE', 'arn:aws:iam::111122223333:role/riposte', /the role's name, not its ARN/],
    ['RIPOSTE_MEMBER_ROLE', 'role with spaces', /not an IAM role name/],
    ['RIPOSTE_SNS_TOPIC_ARN', 'security-alerts', /not an SNS topic ARN/],
    ['RIPOSTE_WEBHOOK_URL', 'http://hooks.example.com/x', /must be an https:\/\/ URL/],
    ['LOG_LEVEL', 'verbose', /must be one of fatal, error, warn, info, debug, trace, silent/],
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
