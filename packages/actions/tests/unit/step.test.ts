import { type ActionContext, defineAction, type ParamsSchema } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { blockS3PublicAccess } from '../../src/actions/block-s3-public-access.js';
import { awsCall, type Mutation } from '../../src/call.js';
import type { AwsServices } from '../../src/clients.js';
import {
  executeInspected,
  executeWith,
  type Inspection,
  noOp,
  planned,
  planWith,
  refused,
  type Step,
} from '../../src/step.js';
import { contextFor } from '../helpers/context.js';
import { bucketBlockPublicAccessDisabled } from '../helpers/findings.js';

type Context = ActionContext<Record<string, never>, AwsServices>;

/** A step whose inspection is `inspection` and whose one mutation answers `answer` (or throws it). */
const stepOf = (inspection: Inspection<string>, answer: unknown = { done: true }) => {
  const sent: string[] = [];
  const step: Step<Record<string, never>, string, unknown> = {
    inspect: async () => inspection,
    mutations: (_ctx, state): Mutation[] => [
      {
        call: awsCall('S3', 'PutBucketTagging', { Bucket: state }, true),
        send: async () => {
          sent.push(state);
          if (answer instanceof Error) throw answer;
          return answer;
        },
      },
    ],
    outputs: (_ctx, state, results) => ({ state, results }),
  };
  return { step, sent };
};

const context = (mode: 'dry-run' | 'enforce' = 'enforce'): Context =>
  contextFor(blockS3PublicAccess, bucketBlockPublicAccessDisabled(), { mode });

describe('planWith', () => {
  it('lists the calls of the mutations built from what inspection found', async () => {
    const { step, sent } = stepOf(planned('acme-customer-exports'));

    const plan = await planWith(step)(context());

    expect([plan.status, plan.lookups, sent]).toEqual(['planned', [], []]);
    expect(plan.calls).toEqual([
      {
        service: 'S3',
        operation: 'PutBucketTagging',
        input: { Bucket: 'acme-customer-exports' },
        mutating: true,
      },
    ]);
  });

  it('reports a no-op or a refusal with its reason and no calls', async () => {
    const noop = await planWith(stepOf(noOp('already tagged')).step)(context());
    const refusal = await planWith(stepOf(refused('not a bucket name')).step)(context());

    expect(noop).toEqual({ status: 'no-op', reason: 'already tagged', lookups: [], calls: [] });
    expect(refusal).toEqual({ status: 'refused', reason: 'not a bucket name', lookups: [], calls: [] });
  });
});

describe('executeWith', () => {
  it('sends each mutation and reports the outputs of the state and the answers', async () => {
    const { step, sent } = stepOf(planned('acme-customer-exports'));

    const outcome = await executeWith(step)(context());

    expect(outcome).toMatchObject({
      status: 'applied',
      outputs: { state: 'acme-customer-exports', results: [{ done: true }] },
    });
    expect(outcome.calls.map((call) => call.operation)).toEqual(['PutBucketTagging']);
    expect(sent).toEqual(['acme-customer-exports']);
  });

  it('skips a no-op and fails a refusal with its error, sending nothing', async () => {
    const noop = stepOf(noOp('already tagged'));
    const refusal = stepOf(refused('not a bucket name'));

    expect(await executeWith(noop.step)(context())).toEqual({
      status: 'skipped',
      reason: 'already tagged',
      calls: [],
    });
    expect(await executeWith(refusal.step)(context())).toMatchObject({
      status: 'failed',
      calls: [],
      error: { code: 'REFUSED', message: 'not a bucket name' },
    });
    expect([...noop.sent, ...refusal.sent]).toEqual([]);
  });

  it('fails with the error of a failed mutation, keeping its call record', async () => {
    const denied = Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: {} });
    const { step } = stepOf(planned('acme-customer-exports'), denied);

    const outcome = await executeWith(step)(context());

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'AccessDenied' } });
    expect(outcome.calls).toMatchObject([{ operation: 'PutBucketTagging', errorCode: 'AccessDenied' }]);
  });

  it('sends nothing in dry-run mode', async () => {
    const { step, sent } = stepOf(planned('acme-customer-exports'));

    const outcome = await executeWith(step)(context('dry-run'));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(sent).toEqual([]);
  });
});

describe('executeInspected', () => {
  it('hands the state to apply, which may build a later call from an earlier answer', async () => {
    const { step, sent } = stepOf(planned('acme-customer-exports'), { copied: 'acme-quarantine' });

    const outcome = await executeInspected(context(), step.inspect, async (session, state) => {
      const [first] = step.mutations(context(), state);
      const answer = (await session.mutate(first!)) as { copied: string };
      return { status: 'applied', outputs: { from: state, to: answer.copied } };
    });

    expect(outcome).toMatchObject({
      status: 'applied',
      outputs: { from: 'acme-customer-exports', to: 'acme-quarantine' },
    });
    expect(sent).toEqual(['acme-customer-exports']);
  });

  it('never calls apply for a no-op or a refusal', async () => {
    const applied: string[] = [];
    const apply = async (_session: unknown, state: string) => {
      applied.push(state);
      return { status: 'applied' as const };
    };

    const noop = await executeInspected(context(), async () => noOp('already quarantined'), apply);
    const refusal = await executeInspected(context(), async () => refused('not in this account'), apply);

    expect(noop).toEqual({ status: 'skipped', reason: 'already quarantined', calls: [] });
    expect(refusal).toMatchObject({
      status: 'failed',
      error: { code: 'REFUSED', message: 'not in this account' },
    });
    expect(applied).toEqual([]);
  });
});

describe('defineAction', () => {
  type Params = { bucket: string; prefix?: string };

  const archive = (paramsSchema: ParamsSchema<Params>) =>
    defineAction<Params, AwsServices>({
      name: 'archive-finding',
      summary: 'Copy the finding to an evidence bucket.',
      phase: 'preserve',
      paramsSchema,
      permissions: ['s3:PutObject'],
      grants: () => [],
      resourceKinds: ['finding'],
      example: '- action: archive-finding',
      idempotency: 'Skipped when the object already exists.',
      targets: () => ({ targets: [] }),
      plan: async () => ({ status: 'no-op', reason: 'nothing to archive', lookups: [], calls: [] }),
      execute: async () => ({ status: 'skipped', calls: [] }),
    });

  it('takes a params schema that describes the params type, optional params without nullable', () => {
    const schema = {
      type: 'object',
      additionalProperties: false,
      properties: { bucket: { type: 'string' }, prefix: { type: 'string' } },
      required: ['bucket'],
    } as const;

    expect(archive(schema).paramsSchema).toEqual(schema);
  });

  it('does not compile a schema that drifts from the params type', () => {
    const bucketOnly = { bucket: { type: 'string' } } as const;
    // @ts-expect-error prefix is missing from the properties
    const missing: ParamsSchema<Params> = { type: 'object', properties: bucketOnly, required: [] };
    const properties = { bucket: { type: 'number' }, prefix: { type: 'string' } } as const;
    // @ts-expect-error bucket is a string, not a number
    const mistyped: ParamsSchema<Params> = { type: 'object', properties, required: ['bucket'] };
    const optionalRequired: ParamsSchema<Params> = {
      type: 'object',
      properties: { bucket: { type: 'string' }, prefix: { type: 'string' } },
      // @ts-expect-error prefix is optional, so it cannot be required
      required: ['bucket', 'prefix'],
    };

    expect([missing, mistyped, optionalRequired]).toHaveLength(3);
  });
});
