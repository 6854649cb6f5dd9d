import { ExecutionError } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { awsCall } from '../../src/call.js';
import { executeAction, PlanSession, planAction } from '../../src/session.js';
import { credentialsError } from '../helpers/context.js';

const describeCall = awsCall('EC2', 'DescribeInstances', { InstanceIds: ['i-0a1b2c3d4e5f67890'] });

describe('PlanSession', () => {
  it('stops sending once credentials are known to be missing', async () => {
    const session = new PlanSession();
    let sent = 0;
    const send = () => {
      sent += 1;
      return Promise.reject(credentialsError());
    };

    const first = await session.read(
      { call: describeCall, send },
      { key: 'i-0a1b2c3d4e5f67890', found: () => '' },
    );
    const second = await session.read(
      { call: describeCall, send },
      { key: 'i-0a1b2c3d4e5f67890', found: () => '' },
    );

    expect([first.status, second.status]).toEqual(['unknown', 'unknown']);
    expect(sent).toBe(1);
    expect(session.lookups.map((lookup) => lookup.status)).toEqual(['unavailable', 'unavailable']);
  });
});

describe('planAction', () => {
  it('turns an unexpected exception into a failed plan instead of throwing', async () => {
    const plan = await planAction(async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'Instances')");
    });

    expect(plan).toMatchObject({
      status: 'failed',
      calls: [],
      error: { code: 'ACTION_FAILED', retryable: false },
    });
  });
});

describe('executeAction', () => {
  it('keeps the calls made before a failure', async () => {
    const outcome = await executeAction('enforce', async (session) => {
      await session.mutate({
        call: awsCall('EC2', 'CreateTags', { Resources: ['i-0a1b2c3d4e5f67890'] }, true),
        send: async () => ({}),
      });
      return session.fail(
        new ExecutionError('WEBHOOK_REJECTED', 'the webhook at webhook:hooks.slack.com answered HTTP 410'),
      );
    });

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'WEBHOOK_REJECTED' } });
    expect(outcome.calls.map((call) => call.operation)).toEqual(['CreateTags']);
  });

  it('refuses every mutation in dry-run mode without sending it', async () => {
    let sent = false;

    const outcome = await executeAction('dry-run', async (session) => {
      await session.mutate({
        call: awsCall('EC2', 'CreateTags', {}, true),
        send: async () => {
          sent = true;
          return {};
        },
      });
      return { status: 'applied' };
    });

    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'DRY_RUN_MUTATION' } });
    expect(sent).toBe(false);
  });
});
