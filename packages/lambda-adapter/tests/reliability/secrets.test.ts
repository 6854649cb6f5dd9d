import { type AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createAwsServices } from '@riposte/actions';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_CREDENTIALS,
  type FakeAws,
  holdFindings,
  scenarioSeed,
  startFakeAws,
} from '../../../../testing/fake-aws/index.js';
import { recordCounts } from '../../../core/tests/reliability/counts.js';
import type { StsLike } from '../../src/index.js';
import { type Lambda, SCENARIO, scenarioEvents, startLambda } from './support.js';

/**
 * Secrets: a run with credentials, session tokens (its own and a member account's, from STS) and a
 * webhook URL in play, with steps that succeed and steps that fail, logs none of them.
 */
const SUITE = 'lambda-adapter: secrets';
const MEMBER_ACCOUNT = '444455556666';

// Shaped as the real thing, so masking by shape and masking by value are both exercised.
const OWN = {
  accessKeyId: 'ASIAQNZGKIQY7EXAMPLE',
  secretAccessKey: 'Kx9fQ2mVb7Lr4Tz1Wc8Yp3Nd6Hs0Jg5Ea2Ru7Io9',
  sessionToken: `IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD${'Tk9UQVJFQUxUT0tFTg'.repeat(12)}`,
};
const WEBHOOK_SECRET = 'T01EXAMPLE/B02EXAMPLE/k8Zq3RrVbX2LmN7pYt5sWd1c';
const WEBHOOK_URL = `https://hooks.slack.example/webhook/${WEBHOOK_SECRET}`;

let fake: FakeAws | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** STS on the fake, keeping each secret it hands out so the test can look for it in the logs. */
const recordingSts = (aws: FakeAws, issued: string[]): StsLike => {
  const client = new STSClient({
    endpoint: aws.url,
    region: SCENARIO.region,
    credentials: { ...FAKE_CREDENTIALS },
  });
  return {
    send: async (command: AssumeRoleCommand | GetCallerIdentityCommand) => {
      if (command instanceof GetCallerIdentityCommand) return client.send(command);
      const output = await client.send(command);
      const credentials = output.Credentials;
      if (credentials?.SecretAccessKey) issued.push(credentials.SecretAccessKey);
      if (credentials?.SessionToken) issued.push(credentials.SessionToken);
      return output;
    },
  } as StsLike;
};

describe('logs of a run with secrets in play', () => {
  it('hold no credential, session token or webhook path, whatever succeeds or fails', async () => {
    // Arrange
    fake = await startFakeAws({ seed: scenarioSeed() });
    const aws = fake;
    const issued: string[] = [];
    const lambda: Lambda = await startLambda({
      fake: aws,
      env: {
        AWS_ACCESS_KEY_ID: OWN.accessKeyId,
        AWS_SECRET_ACCESS_KEY: OWN.secretAccessKey,
        AWS_SESSION_TOKEN: OWN.sessionToken,
        RIPOSTE_WEBHOOK_URL: WEBHOOK_URL,
        RIPOSTE_MEMBER_ROLE: 'riposte-responder',
        RIPOSTE_ACCOUNTS: '111122223333,444455556666',
        LOG_LEVEL: 'trace',
      },
      handler: {
        sts: recordingSts(aws, issued),
        // Signed with the secrets above; the webhook's host is the fake.
        createServices: (options) =>
          createAwsServices({
            ...options,
            clientConfig: { endpoint: aws.url },
            credentialsFor: options.credentialsFor ?? (() => async () => ({ ...OWN })),
            fetch: (input, init) =>
              globalThis.fetch(String(input).replace('https://hooks.slack.example', aws.url), init),
          }),
      },
    });
    const [exfiltration, s3, cloudtrail, root] = scenarioEvents();
    // A member account's finding, which the administrator's GuardDuty holds, so it verifies.
    const member = structuredClone(s3) as {
      account?: string;
      detail: { accountId?: string; id: string; arn?: string };
    };
    member.detail.accountId = MEMBER_ACCOUNT;
    member.account = MEMBER_ACCOUNT;
    member.detail.id = 'b3d5f7a9c1e35a7b9d1f3a5c7e9b1d05';
    member.detail.arn = `arn:aws:guardduty:us-east-1:${MEMBER_ACCOUNT}:detector/4f5e6d7c8b9a0f1e2d3c4b5a69788796/finding/${member.detail.id}`;
    holdFindings(aws.state, [member], new Date(), SCENARIO.detectorId);

    // Act: a clean run, a run whose webhook post and CloudTrail call fail, and a member account's finding.
    await lambda.invoke(exfiltration);
    aws.fail({ service: 'Webhook', kind: 'error500' });
    aws.fail({ service: 'CloudTrail', operation: 'StartLogging', kind: 'accessDenied' });
    await lambda.invoke(cloudtrail);
    await lambda.invoke(root);
    await lambda.invoke(member);

    // Assert
    const text = lambda.logs.text();
    const secrets = [OWN.secretAccessKey, OWN.sessionToken, WEBHOOK_SECRET, ...issued];
    const leaked = secrets.filter((secret) => text.includes(secret));
    recordCounts(SUITE, 'secrets in four invocations', {
      inputs: 4,
      faultsInjected: aws.calls.filter((call) => call.errorCode !== undefined).length,
      codes: {
        secretsWatched: secrets.length,
        leaked: leaked.length,
        logLines: lambda.logs.entries().length,
      },
    });
    expect(issued.length).toBeGreaterThanOrEqual(2); // the member role was assumed
    expect(aws.state.webhookPosts.length).toBeGreaterThan(0); // the webhook was used
    expect(lambda.logs.entries().some((line) => line.level === 'error')).toBe(true); // failures were logged
    expect(leaked).toEqual([]);
  });
});
