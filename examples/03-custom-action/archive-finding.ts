/**
 * A custom action: copy the finding, as GuardDuty delivered it, to an evidence bucket. It is defined as
 * the built-ins are (`defineAction` of `@riposte/core`): a kebab-case name, a params schema the
 * compiler checks against the params type, the IAM permissions it needs and where (`grants`), the
 * resource kinds it acts on, a read-only `plan` and an idempotent `execute`. The helpers of
 * `@riposte/actions` do the rest: the target (`targetOf`), the S3 call in the finding's account and
 * region (`mutation`), and the runners that record every call with its request id and error code.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type AwsServices, executeAction, mutation, planned, planWith, targetOf } from '@riposte/actions';
import { type ActionContext, defineAction } from '@riposte/core';

export interface ArchiveFindingParams {
  bucket: string;
  prefix?: string;
}

type Context = ActionContext<ArchiveFindingParams, AwsServices>;

/** The object key comes from the finding's account and id, never from anything an attacker could choose. */
const keyOf = ({ finding, params }: Context): string =>
  `${params.prefix ?? 'guardduty/'}${finding.accountId}/${finding.id}.json`;

/**
 * The one call this action makes, with the client of the finding's account and region. The write is
 * conditional (`IfNoneMatch: '*'`), so it never overwrites; reports show it without its body.
 */
const putObject = (ctx: Context) => {
  const shown = {
    Bucket: ctx.params.bucket,
    Key: keyOf(ctx),
    ContentType: 'application/json',
    IfNoneMatch: '*',
  };
  return mutation(
    ctx,
    's3',
    'PutObject',
    { ...shown, Body: JSON.stringify(ctx.finding.raw) },
    { commands: { PutObjectCommand }, shown },
  );
};

export const archiveFinding = defineAction<ArchiveFindingParams, AwsServices>({
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
  targets: (finding) => ({ targets: [targetOf(finding, 'finding', finding.id, `finding ${finding.id}`)] }),

  // Read-only: nothing to look up, so the plan is exactly the call execute would make.
  plan: planWith({ inspect: async () => planned(undefined), mutations: (ctx) => [putObject(ctx)] }),

  // The only code that writes. A failed call is recorded with its error code; S3 errors are recognised
  // by that code (the SDK error name), never by message: an existing object was archived before.
  execute: (ctx) =>
    executeAction(ctx.mode, async (session) => {
      const result = await session.attempt(putObject(ctx));
      if (result.ok) return { status: 'applied', outputs: { key: keyOf(ctx) } };
      if (result.error.code === 'PreconditionFailed')
        return { status: 'skipped', reason: 'already archived' };
      return session.fail(result.error);
    }),
});
