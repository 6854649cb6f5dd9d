import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsCredentialsProvider, type AwsScope, createAwsServices } from '../../src/clients.js';
import { credentialsError } from '../helpers/context.js';

const member: AwsScope = { accountId: '973743533182', region: 'us-east-2' };
const otherRegion: AwsScope = { accountId: '973743533182', region: 'eu-west-1' };
const otherAccount: AwsScope = { accountId: '111122223333', region: 'us-east-2' };

/** Counts constructions, so a test can see when (and how often) a client is created. */
const countingEc2 = () => {
  const made: unknown[] = [];
  class CountingEC2Client extends EC2Client {
    constructor(...args: ConstructorParameters<typeof EC2Client>) {
      super(...args);
      made.push(args[0]);
    }
  }
  return { made, CountingEC2Client };
};

const sts = mockClient(STSClient);
beforeEach(() => sts.reset());
afterAll(() => sts.restore());

describe('createAwsServices clients', () => {
  it('creates no client until one is asked for', () => {
    const { made, CountingEC2Client } = countingEc2();

    createAwsServices({ env: {}, clientClasses: { ec2: CountingEC2Client } });

    expect(made).toHaveLength(0);
  });

  it('reuses one client per service, account and region', async () => {
    const { made, CountingEC2Client } = countingEc2();
    const services = createAwsServices({ env: {}, clientClasses: { ec2: CountingEC2Client } });

    const [first, again] = await Promise.all([services.ec2(member), services.ec2({ ...member })]);
    const inOtherRegion = await services.ec2(otherRegion);
    const inOtherAccount = await services.ec2(otherAccount);

    expect(first).toBe(again);
    expect(inOtherRegion).not.toBe(first);
    expect(inOtherAccount).not.toBe(first);
    expect(made).toHaveLength(3);
    expect(await inOtherRegion.config.region()).toBe('eu-west-1');
  });

  it('loads the real SDK client classes on first use', async () => {
    const services = createAwsServices({ env: {} });

    expect(await services.iam(member)).toBeInstanceOf(IAMClient);
    expect(await services.s3(member)).toBeInstanceOf(S3Client);
    expect(await services.sts(member)).toBeInstanceOf(STSClient);
  });

  it('applies adaptive retries and the client options', async () => {
    const services = createAwsServices({ env: {}, clientConfig: { maxAttempts: 5 } });

    const ec2 = await services.ec2(member);

    expect(((await ec2.config.retryStrategy()) as { mode?: string }).mode).toBe('adaptive');
    expect(await ec2.config.maxAttempts()).toBe(5);
  });

  it('asks for credentials once per account and region and gives them to every client there', async () => {
    const asked: AwsScope[] = [];
    const provider: AwsCredentialsProvider = async () => ({
      accessKeyId: 'ASIA6FLOREXAMPLEMEM1',
      secretAccessKey: 'example-secret',
      sessionToken: 'example-token',
    });
    const services = createAwsServices({
      env: {},
      credentialsFor: (scope) => {
        asked.push(scope);
        return scope.accountId === otherAccount.accountId ? provider : undefined;
      },
    });

    const ec2 = await services.ec2(otherAccount);
    await services.iam(otherAccount);
    await services.ec2(member);

    expect(asked).toEqual([otherAccount, member]);
    expect(await ec2.config.credentials()).toMatchObject({ accessKeyId: 'ASIA6FLOREXAMPLEMEM1' });
  });
});

describe('createAwsServices request timeout', () => {
  let server: Server;
  afterAll(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });

  it('gives up on an endpoint that never answers', async () => {
    // Accepts the connection and never answers.
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const services = createAwsServices({
      env: {},
      clientConfig: { endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1, requestTimeoutMs: 50 },
      credentialsFor: () => async () => ({
        accessKeyId: 'AKIA6FLOREXAMPLETST1',
        secretAccessKey: 'example-secret',
      }),
    });
    const ec2 = await services.ec2(member);

    await expect(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0a1b2c3d4e5f67890'] })),
    ).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });
});

describe('createAwsServices S3 addressing', () => {
  it('uses path-style addressing with an explicit endpoint', async () => {
    const services = createAwsServices({ env: {}, clientConfig: { endpoint: 'http://127.0.0.1:4566' } });

    const s3 = await services.s3(member);

    expect(s3.config.forcePathStyle).toBe(true);
    expect(await (await services.ec2(member)).config.endpoint?.()).toMatchObject({
      hostname: '127.0.0.1',
      port: 4566,
    });
  });

  it('uses path-style addressing when AWS_ENDPOINT_URL is set', async () => {
    const services = createAwsServices({ env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' } });

    expect((await services.s3(member)).config.forcePathStyle).toBe(true);
  });

  it('keeps virtual-hosted addressing against AWS itself', async () => {
    const services = createAwsServices({ env: {} });

    expect((await services.s3(member)).config.forcePathStyle).toBe(false);
  });
});

describe('createAwsServices callerIdentity', () => {
  it('asks STS once per scope and remembers the answer', async () => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: '973743533182',
      Arn: 'arn:aws:sts::973743533182:assumed-role/riposte-responder/riposte',
    });
    const services = createAwsServices({ env: {} });

    const first = await services.callerIdentity(member);
    const second = await services.callerIdentity(member);

    expect(first).toEqual({
      account: '973743533182',
      arn: 'arn:aws:sts::973743533182:assumed-role/riposte-responder/riposte',
    });
    expect(second).toBe(first);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });

  it('answers undefined without credentials and asks again next time', async () => {
    sts.on(GetCallerIdentityCommand).rejectsOnce(credentialsError()).resolves({
      Account: '973743533182',
      Arn: 'arn:aws:sts::973743533182:assumed-role/riposte-responder/riposte',
    });
    const services = createAwsServices({ env: {} });

    expect(await services.callerIdentity(member)).toBeUndefined();
    expect(await services.callerIdentity(member)).toMatchObject({ account: '973743533182' });
  });
});

describe('createAwsServices identity', () => {
  const identity = {
    account: '973743533182',
    arn: 'arn:aws:sts::973743533182:assumed-role/riposte-function/riposte',
  };

  it('answers with the identity it was given, without asking STS again', async () => {
    const services = createAwsServices({ env: {}, identity });

    expect(await services.callerIdentity(member)).toEqual(identity);
    expect(await services.callerIdentity(otherRegion)).toEqual(identity);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
  });

  it('still asks STS for a scope that has credentials of its own', async () => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: '111122223333',
      Arn: 'arn:aws:sts::111122223333:assumed-role/RiposteMember/riposte',
    });
    const credentials: AwsCredentialsProvider = async () => ({
      accessKeyId: 'AKID',
      secretAccessKey: 'secret',
    });
    const services = createAwsServices({
      env: {},
      identity,
      credentialsFor: (scope) => (scope.accountId === otherAccount.accountId ? credentials : undefined),
    });

    expect(await services.callerIdentity(otherAccount)).toMatchObject({ account: '111122223333' });
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });
});

describe('createAwsServices settings', () => {
  it('exposes the env and fetch it was given', () => {
    const fetchStub = (() => Promise.reject(new Error('not used'))) as typeof fetch;

    const services = createAwsServices({
      env: { RIPOSTE_SNS_TOPIC_ARN: 'arn:aws:sns:us-east-2:973743533182:alerts' },
      fetch: fetchStub,
    });

    expect(services.env.RIPOSTE_SNS_TOPIC_ARN).toBe('arn:aws:sns:us-east-2:973743533182:alerts');
    expect(services.fetch).toBe(fetchStub);
  });

  it('reads process.env by default', () => {
    expect(createAwsServices().env).toBe(process.env);
  });
});
