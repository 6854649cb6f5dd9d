import type { Instance } from '@aws-sdk/client-ec2';
import type { ActionTarget } from '@riposte/core';
import { awsCall } from './call.js';
import type { AwsServices } from './clients.js';
import { type Session, scopeOf } from './session.js';
import { foreignNote, ownedBy } from './targets.js';

/**
 * What reading the target instance found: `found` with the instance whose id is exactly the target's
 * (`undefined` when EC2 returned only others), `absent` when EC2 says it does not exist, `unknown`
 * while planning without credentials.
 */
export type InstanceRead =
  | { status: 'found'; instance: Instance | undefined }
  | { status: 'absent' }
  | { status: 'unknown' };

const instancesOf = (output: { Reservations?: { Instances?: Instance[] }[] }, instanceId: string) =>
  ownedBy(
    (output.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []),
    (instance) => instance.InstanceId,
    instanceId,
  );

/**
 * Reads the target instance by its id (`InstanceIds`, never a filter). Whatever else EC2 returns is
 * ignored, and named in the lookup's summary; `describe` says what the action sees in the instance.
 */
export const readTargetInstance = async (
  ctx: { services: AwsServices; target: ActionTarget },
  session: Session,
  describe: (instance: Instance) => string,
): Promise<InstanceRead> => {
  const ec2 = await ctx.services.ec2(scopeOf(ctx.target));
  const { DescribeInstancesCommand } = await import('@aws-sdk/client-ec2');
  const instanceId = ctx.target.id;
  const input = { InstanceIds: [instanceId] };
  const read = await session.read({
    call: awsCall('EC2', 'DescribeInstances', input),
    send: () => ec2.send(new DescribeInstancesCommand(input)),
    key: instanceId,
    found: (output) => {
      const { owned, foreign } = instancesOf(output, instanceId);
      const [instance] = owned;
      const found = instance ? describe(instance) : `instance ${instanceId} was not returned`;
      return `${found}${foreignNote(foreign, (item) => item.InstanceId, 'other instance(s)')}`;
    },
    absent: { codes: ['InvalidInstanceID.NotFound'], summary: `instance ${instanceId} does not exist` },
  });
  if (read.status !== 'found') return read.status === 'absent' ? { status: 'absent' } : { status: 'unknown' };
  return { status: 'found', instance: instancesOf(read.output, instanceId).owned[0] };
};
