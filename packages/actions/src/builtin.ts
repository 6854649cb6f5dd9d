import type { ActionDefinition } from '@riposte/core';
import { archiveGuardDutyFinding } from './actions/archive-guardduty-finding.js';
import { blockS3PublicAccess } from './actions/block-s3-public-access.js';
import { deactivateAccessKey } from './actions/deactivate-access-key.js';
import { detachInstanceProfile } from './actions/detach-instance-profile.js';
import { isolateInstance } from './actions/isolate-instance.js';
import { notify } from './actions/notify.js';
import { restartCloudTrailLogging } from './actions/restart-cloudtrail-logging.js';
import { revokeRoleSessions } from './actions/revoke-role-sessions.js';
import { snapshotVolumes } from './actions/snapshot-volumes.js';
import { tagResource } from './actions/tag-resource.js';
import { updateSecurityHubFinding } from './actions/update-securityhub-finding.js';
import type { AwsServices } from './clients.js';

/**
 * The built-in actions, in response order: preserve, contain, revoke, notify (telling people, then
 * feedback to the finding in Security Hub and GuardDuty). Each has its own params type; the registry
 * holds them as actions of some params object, and validates params by schema.
 */
export const builtinActions: ActionDefinition<object, AwsServices>[] = [
  snapshotVolumes,
  tagResource,
  detachInstanceProfile,
  isolateInstance,
  blockS3PublicAccess,
  restartCloudTrailLogging,
  revokeRoleSessions,
  deactivateAccessKey,
  notify,
  updateSecurityHubFinding,
  archiveGuardDutyFinding,
];
