import type { ActionDefinition } from '@riposte/core';
import { archiveGuardDutyFinding } from './actions/archive-guardduty-finding.js';
import { blockActorIp } from './actions/block-actor-ip.js';
import { blockS3PublicAccess } from './actions/block-s3-public-access.js';
import { deactivateAccessKey } from './actions/deactivate-access-key.js';
import { detachInstanceProfile } from './actions/detach-instance-profile.js';
import { isolateEksPod } from './actions/isolate-eks-pod.js';
import { isolateInstance } from './actions/isolate-instance.js';
import { isolateRdsInstance } from './actions/isolate-rds-instance.js';
import { notify } from './actions/notify.js';
import { quarantineLambdaFunction } from './actions/quarantine-lambda-function.js';
import { quarantineS3Object } from './actions/quarantine-s3-object.js';
import { quarantineUser } from './actions/quarantine-user.js';
import { restartCloudTrailLogging } from './actions/restart-cloudtrail-logging.js';
import { restrictEksEndpoint } from './actions/restrict-eks-endpoint.js';
import { revokeEksAccessEntry } from './actions/revoke-eks-access-entry.js';
import { revokeRoleSessions } from './actions/revoke-role-sessions.js';
import { revokeUserSessions } from './actions/revoke-user-sessions.js';
import { snapshotRds } from './actions/snapshot-rds.js';
import { snapshotVolumes } from './actions/snapshot-volumes.js';
import { stopEcsTask } from './actions/stop-ecs-task.js';
import { tagResource } from './actions/tag-resource.js';
import { tagS3Object } from './actions/tag-s3-object.js';
import { updateSecurityHubFinding } from './actions/update-securityhub-finding.js';
import type { AwsServices } from './clients.js';

/**
 * The built-in actions, in response order: preserve, contain, revoke, notify (telling people, then
 * feedback to the finding in Security Hub and GuardDuty). Each has its own params type; the registry
 * holds them as actions of some params object, and validates params by schema.
 */
export const builtinActions: ActionDefinition<object, AwsServices>[] = [
  snapshotVolumes,
  snapshotRds,
  tagResource,
  tagS3Object,
  detachInstanceProfile,
  isolateInstance,
  isolateRdsInstance,
  quarantineS3Object,
  blockS3PublicAccess,
  restrictEksEndpoint,
  isolateEksPod,
  quarantineUser,
  blockActorIp,
  quarantineLambdaFunction,
  stopEcsTask,
  restartCloudTrailLogging,
  revokeRoleSessions,
  revokeUserSessions,
  deactivateAccessKey,
  revokeEksAccessEntry,
  notify,
  updateSecurityHubFinding,
  archiveGuardDutyFinding,
];
