// Tests for archive-finding, with Node's own test runner: `node --test actions/archive-finding.test.mjs`.
// No AWS call is made: `services` is a fake whose S3 client records what it is sent.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ExecutionError, normalize } from '@riposte/core';
import { archiveFinding } from './archive-finding.mjs';

// A real-shaped finding (see playbooks/findings/SOURCES.md), normalized as the engine does it.
const delivered = JSON.parse(
  await readFile(new URL('../playbooks/findings/backdoor-ec2-c-cactivity-b.json', import.meta.url), 'utf8'),
);
const [finding] = normalize(delivered);
const params = { bucket: 'my-evidence-bucket' };
const key = `guardduty/${finding.accountId}/${finding.id}.json`;

/** Services whose S3 client answers with `reply` (or throws it) and records every command it is sent. */
const fakeServices = (reply) => {
  const sent = [];
  const scopes = [];
  const services = {
    s3: async (scope) => {
      scopes.push(scope);
      return {
        send: async (command) => {
          sent.push(command);
          if (reply instanceof Error) throw reply;
          return reply;
        },
      };
    },
  };
  return { services, sent, scopes };
};

/** What the engine gives an action for one step. */
const contextWith = (services, stepParams = params) => ({
  finding,
  target: archiveFinding.targets(finding, stepParams).targets[0],
  params: stepParams,
  services,
  mode: 'enforce',
  now: new Date('2024-01-01T00:00:00.000Z'),
  playbook: 'archive-c2-findings',
  stepId: 'archive-finding',
  previous: new Map(),
  limits: { maxTargets: 5 },
});

const sdkError = (name) => Object.assign(new Error(`${name} from S3`), { name, $metadata: {} });

describe('archive-finding', () => {
  it('targets the finding itself', () => {
    assert.deepEqual(archiveFinding.targets(finding, params).targets, [
      {
        kind: 'finding',
        id: finding.id,
        accountId: finding.accountId,
        region: finding.region,
        label: `finding ${finding.id}`,
      },
    ]);
  });

  it('is granted PutObject under its prefix in its bucket only', () => {
    assert.deepEqual(archiveFinding.grants({ bucket: 'my-evidence-bucket', prefix: 'findings/' }), [
      { actions: ['s3:PutObject'], resources: ['arn:{partition}:s3:::my-evidence-bucket/findings/*'] },
    ]);
  });

  it('plans exactly the conditional PutObject under a key derived from the finding, calling nothing', async () => {
    const { services, sent, scopes } = fakeServices({ $metadata: {} });

    const plan = await archiveFinding.plan(contextWith(services));

    assert.equal(plan.status, 'planned');
    assert.deepEqual(plan.calls, [
      {
        service: 'S3',
        operation: 'PutObject',
        input: { Bucket: 'my-evidence-bucket', Key: key, ContentType: 'application/json', IfNoneMatch: '*' },
        mutating: true,
      },
    ]);
    assert.deepEqual([sent, scopes], [[], []]);
  });

  it('puts the key under the prefix the step gives', async () => {
    const { services } = fakeServices({ $metadata: {} });

    const plan = await archiveFinding.plan(contextWith(services, { ...params, prefix: 'evidence/' }));

    assert.equal(plan.calls[0].input.Key, `evidence/${finding.accountId}/${finding.id}.json`);
  });

  it('writes the finding as delivered, in its own account and region, and records the request id', async () => {
    const { services, sent, scopes } = fakeServices({ $metadata: { requestId: 'R1EXAMPLE' } });
    const context = contextWith(services);

    const outcome = await archiveFinding.execute(context, await archiveFinding.plan(context));

    assert.equal(outcome.status, 'applied');
    assert.equal(outcome.calls[0].requestId, 'R1EXAMPLE');
    assert.deepEqual(scopes, [{ accountId: finding.accountId, region: finding.region }]);
    assert.equal(sent.length, 1);
    assert.ok(sent[0] instanceof PutObjectCommand);
    const { Body, ...input } = sent[0].input;
    assert.deepEqual(input, {
      Bucket: 'my-evidence-bucket',
      Key: key,
      ContentType: 'application/json',
      IfNoneMatch: '*',
    });
    assert.deepEqual(JSON.parse(Body), delivered);
  });

  it('skips when the object already exists (PreconditionFailed): archived before', async () => {
    const { services } = fakeServices(sdkError('PreconditionFailed'));
    const context = contextWith(services);

    const outcome = await archiveFinding.execute(context, await archiveFinding.plan(context));

    assert.equal(outcome.status, 'skipped');
    assert.equal(outcome.reason, 'already archived');
    assert.equal(outcome.calls[0].errorCode, 'PreconditionFailed');
  });

  it('fails with an ExecutionError named after any other S3 error', async () => {
    const { services } = fakeServices(sdkError('AccessDenied'));
    const context = contextWith(services);

    const outcome = await archiveFinding.execute(context, await archiveFinding.plan(context));

    assert.equal(outcome.status, 'failed');
    assert.ok(outcome.error instanceof ExecutionError);
    assert.equal(outcome.error.code, 'AccessDenied');
    assert.equal(outcome.calls[0].errorCode, 'AccessDenied');
  });

  it('makes no call when nothing was planned', async () => {
    const { services, sent } = fakeServices({ $metadata: {} });

    const outcome = await archiveFinding.execute(contextWith(services), {
      status: 'planned',
      lookups: [],
      calls: [],
    });

    assert.equal(outcome.status, 'skipped');
    assert.equal(sent.length, 0);
  });
});
