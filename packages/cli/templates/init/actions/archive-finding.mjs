/**
 * A custom action: copy the finding, as GuardDuty delivered it, to an evidence bucket. It follows the
 * same contract as Riposte's built-in actions (`ActionDefinition` of `@riposte/core`): a kebab-case name,
 * a params schema, the IAM permissions it needs and where (`grants`), the resource kinds it acts on, a
 * read-only `plan` and an idempotent `execute`. `riposte validate` checks all of them when it loads
 * riposte.config.mjs, and `riposte template` grants the function exactly what `grants` says.
 *
 * Plain JavaScript (ESM) with JSDoc types, because Node loads riposte.config.mjs as it is; an editor
 * still type-checks it against `ActionDefinition`.
 */
import { ExecutionError } from '@riposte/core';

const DEFAULT_PREFIX = 'guardduty/';

/**
 * The one call this action makes. The key comes from the finding's account and id, never from anything
 * an attacker could choose; `IfNoneMatch: '*'` makes the write conditional, so it never overwrites.
 * @param {string} bucket
 * @param {string} key
 * @returns {import('@riposte/core').AwsCall}
 */
const putObjectCall = (bucket, key) => ({
  service: 'S3',
  operation: 'PutObject',
  input: { Bucket: bucket, Key: key, ContentType: 'application/json', IfNoneMatch: '*' },
  mutating: true,
});

/** @type {import('@riposte/core').ActionDefinition<{bucket: string, prefix?: string}, import('@riposte/actions').AwsServices>} */
export const archiveFinding = {
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
      prefix: {
        type: 'string',
        // No wildcard or policy variable: the prefix becomes part of the IAM grant below.
        pattern: '^[A-Za-z0-9/._-]{0,200}$',
        description: `Key prefix (default ${DEFAULT_PREFIX}).`,
      },
    },
  },
  permissions: ['s3:PutObject'],
  // Where: only under the step's prefix in the step's bucket (which may belong to another account).
  grants: ({ bucket, prefix = DEFAULT_PREFIX }) => [
    { actions: ['s3:PutObject'], resources: [`arn:{partition}:s3:::${bucket}/${prefix}*`] },
  ],
  resourceKinds: ['finding'],
  example: ['- action: archive-finding', '  params:', '    bucket: my-evidence-bucket'].join('\n'),
  idempotency: 'Skipped when the object already exists: the write is conditional (If-None-Match: *).',

  // The finding itself is the target.
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

  // Read-only: says exactly which call execute would make, and makes none.
  plan: async ({ finding, params }) => {
    const key = `${params.prefix ?? DEFAULT_PREFIX}${finding.accountId}/${finding.id}.json`;
    return { status: 'planned', lookups: [], calls: [putObjectCall(params.bucket, key)] };
  },

  // The only code that writes. The client is scoped to the finding's account and region (the deployed
  // function assumes the member role there for a member account's finding).
  execute: async ({ finding, params, services }, plan) => {
    const [call] = plan.calls;
    if (!call) return { status: 'skipped', reason: 'nothing was planned', calls: [] };
    const s3 = await services.s3({ accountId: finding.accountId, region: finding.region });
    // Loaded on first use, so planning and cold starts never pay for the S3 client.
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
      const name = /** @type {{ name?: string }} */ (error).name ?? 'UnknownError';
      const record = { ...call, errorCode: name, durationMs: Date.now() - started };
      // SDK errors are recognised by name, never by message: an existing object was archived before.
      if (name === 'PreconditionFailed') {
        return { status: 'skipped', reason: 'already archived', calls: [record] };
      }
      return {
        status: 'failed',
        calls: [record],
        error: new ExecutionError(name, `S3 PutObject failed with ${name}`, { cause: error }),
      };
    }
  },
};
