import type { Instance } from '@aws-sdk/client-ec2';
import type { ActionTarget } from '@riposte/core';
import { read } from './call.js';
import type { AwsServices } from './clients.js';
import type { Session } from './session.js';
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
  const instanceId = ctx.target.id;
  const answer = await session.read(read(ctx, 'ec2', 'DescribeInstances', { InstanceIds: [instanceId] }), {
    key: instanceId,
    found: (output) => {
      const { owned, foreign } = instancesOf(output, instanceId);
      const [instance] = owned;
      const found = instance ? describe(instance) : `instance ${instanceId} was not returned`;
      return `${found}${foreignNote(foreign, (item) => item.InstanceId, 'other instance(s)')}`;
    },
    absent: { codes: ['InvalidInstanceID.NotFound'], summary: `instance ${instanceId} does not exist` },
  });
  if (answer.status !== 'found')
    return answer.status === 'absent' ? { status: 'absent' } : { status: 'unknown' };
  return { status: 'found', instance: instancesOf(answer.output, instanceId).owned[0] };
};
