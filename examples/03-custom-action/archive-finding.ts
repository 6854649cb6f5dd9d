/**
 * A custom action: copy the finding, as GuardDuty delivered it, to an evidence bucket. It follows the
 * same contract as the built-ins (`ActionDefinition` of `@riposte/core`): a kebab-case name, a params
 * schema, the IAM permissions it needs and where (`grants`), the resource kinds it acts on, a read-only
 * `plan` and an idempotent `execute`.
 */
import type { AwsServices } from '@riposte/actions';
import { type ActionDefinition, type AwsCall, ExecutionError } from '@riposte/core';

export interface ArchiveFindingParams {
  bucket: string;
  prefix?: string;
}

const objectCall = (bucket: string, key: string): AwsCall => ({
  service: 'S3',
  operation: 'PutObject',
  input: {
    Bucket: bucket,
    Key: key,
    ContentType: 'application/json',
    IfNoneMatch: '*',
  },
  mutating: true,
});

export const archiveFinding: ActionDefinition<ArchiveFindingParams, AwsServices> = {
  name: 'archive-finding',
  summary: 'Copy the finding, as GuardDuty delivered it, to an evidence bucket.',
  phase: 'preserve',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['bucket'],
    properties: {
      bucket: {
        type: 'string',
        pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
        description: 'The evidence bucket.',
      },
      prefix: { type: 'string', maxLength: 200, description: 'Key prefix (default guardduty/).' },
    },
  },
  permissions: ['s3:PutObject'],
  // Where: only under the step's prefix in the step's bucket (which may belong to another account).
  grants: ({ bucket, prefix }) => [
    { actions: ['s3:PutObject'], resources: [`arn:{partition}:s3:::${bucket}/${prefix ?? 'guardduty/'}*`] },
  ],
  resourceKinds: ['finding'],
  example: ['- action: archive-finding', '  params:', '    bucket: acme-security-evidence'].join('\n'),
  idempotency: 'Skipped when the object already exists: the write is conditional (If-None-Match: *).',

  // The finding itself is the target: the object key is derived from it, never from anything else.
  targets: (finding) => ({
    targets: [
      {
        kind: 'finding',
        id: finding.id,
        accountId: finding.accountId,
        region: finding.region,
        label: `finding ${finding.id}`,
      },
    ],
  }),

  // Read-only: says exactly which call execute would make.
  plan: async ({ finding, params }) => {
    const key = `${params.prefix ?? 'guardduty/'}${finding.accountId}/${finding.id}.json`;
    return {
      status: 'planned',
      lookups: [],
      calls: [objectCall(params.bucket, key)],
    };
  },

  // The only code that writes. Like every action's, the client is scoped to the finding's account and
  // region (the Lambda adapter assumes a role there for a member account's finding).
  execute: async ({ finding, params, services }, plan) => {
    const [call] = plan.calls;
    if (!call) return { status: 'skipped', reason: 'nothing was planned', calls: [] };
    const s3 = await services.s3({ accountId: finding.accountId, region: finding.region });
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const started = Date.now();
    try {
      const output = await s3.send(
        new PutObjectCommand({
          Bucket: params.bucket,
          Key: String(call.input.Key),
          Body: JSON.stringify(finding.raw),
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
      const record = { ...call, requestId: output.$metadata.requestId, durationMs: Date.now() - started };
      return { status: 'applied', calls: [record], outputs: { key: call.input.Key } };
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'UnknownError';
      const record = { ...call, errorCode: name, durationMs: Date.now() - started };
      // Recognise SDK errors by name, never by message: an existing object means it was archived before.
      if (name === 'PreconditionFailed')
        return { status: 'skipped', reason: 'already archived', calls: [record] };
      return {
        status: 'failed',
        calls: [record],
        error: new ExecutionError(name, `S3 PutObject failed with ${name}`, { cause: error }),
      };
    }
  },
};
