/**
 * The Kubernetes side of an EKS finding (`resource.kubernetesDetails`): the workload it is about
 * (`kubernetesWorkloadDetails`) and the user that acted (`kubernetesUserDetails`). Field names are
 * those of the GuardDuty API (`KubernetesWorkloadDetails`, `Container`, `Volume`,
 * `KubernetesUserDetails`, `ImpersonatedUser`).
 *
 * A block that is given names its object: a workload without a name, namespace or type, or a user
 * without a user name, is a FindingFormatError (as an instance without an instance id is). GuardDuty
 * writes `"kubernetesWorkloadDetails": null` for audit-log findings about no workload.
 */
import type { KubernetesUserResource, KubernetesWorkloadResource, Resource } from '../finding.js';
import {
  boundedArray,
  type JsonObject,
  type Located,
  objectsOf,
  optionalArray,
  optionalBoolean,
  optionalObject,
  optionalString,
  requiredString,
  stringsOf,
} from './read.js';

/** A pod has at most a few dozen containers and volumes; these bounds leave room and cap the cost. */
const MAX_CONTAINERS = 500;
const MAX_VOLUMES = 500;

const containerOf = ({
  value,
  path,
}: Located<JsonObject>): KubernetesWorkloadResource['containers'][number] => {
  const security = optionalObject(value, path, 'securityContext');
  const container: KubernetesWorkloadResource['containers'][number] = {
    name: optionalString(value, path, 'name'),
    image: optionalString(value, path, 'image'),
  };
  if (security) {
    container.privileged = optionalBoolean(security.value, security.path, 'privileged');
    container.allowPrivilegeEscalation = optionalBoolean(
      security.value,
      security.path,
      'allowPrivilegeEscalation',
    );
  }
  return container;
};

const volumeOf = ({ value, path }: Located<JsonObject>): KubernetesWorkloadResource['volumes'][number] => {
  const hostPath = optionalObject(value, path, 'hostPath');
  return {
    name: optionalString(value, path, 'name'),
    hostPath: hostPath && optionalString(hostPath.value, hostPath.path, 'path'),
  };
};

/** `kubernetesWorkloadDetails`. GuardDuty's finding format carries no labels, so `labels` stays empty. */
export const kubernetesWorkloadOf = (
  { value, path }: Located<JsonObject>,
  clusterName: string | undefined,
): KubernetesWorkloadResource => ({
  kind: 'kubernetes-workload',
  clusterName,
  namespace: requiredString(value, path, 'namespace'),
  name: requiredString(value, path, 'name'),
  type: requiredString(value, path, 'type'),
  uid: optionalString(value, path, 'uid'),
  labels: {},
  serviceAccountName: optionalString(value, path, 'serviceAccountName'),
  hostNetwork: optionalBoolean(value, path, 'hostNetwork'),
  hostPID: optionalBoolean(value, path, 'hostPID'),
  hostIPC: optionalBoolean(value, path, 'hostIPC'),
  containers: objectsOf(boundedArray(value, path, 'containers', MAX_CONTAINERS)).map(containerOf),
  volumes: objectsOf(boundedArray(value, path, 'volumes', MAX_VOLUMES)).map(volumeOf),
});

/** `kubernetesUserDetails`. */
export const kubernetesUserOf = (
  { value, path }: Located<JsonObject>,
  clusterName: string | undefined,
): KubernetesUserResource => {
  const sessionNames = optionalArray(value, path, 'sessionName');
  const impersonated = optionalObject(value, path, 'impersonatedUser');
  const user: KubernetesUserResource = {
    kind: 'kubernetes-user',
    clusterName,
    username: requiredString(value, path, 'username'),
    uid: optionalString(value, path, 'uid'),
    groups: stringsOf(optionalArray(value, path, 'groups')),
  };
  const sessionName = stringsOf(sessionNames);
  if (sessionName.length > 0) user.sessionName = sessionName;
  const impersonatedName = impersonated && optionalString(impersonated.value, impersonated.path, 'username');
  if (impersonated && impersonatedName !== undefined) {
    user.impersonatedUser = {
      username: impersonatedName,
      groups: stringsOf(optionalArray(impersonated.value, impersonated.path, 'groups')),
    };
  }
  return user;
};

/** The workload and the user of a `kubernetesDetails` block (either may be absent). */
export const kubernetesResources = (
  details: Located<JsonObject> | undefined,
  clusterName: string | undefined,
): Resource[] => {
  if (!details) return [];
  const resources: Resource[] = [];
  const workload = optionalObject(details.value, details.path, 'kubernetesWorkloadDetails');
  if (workload) resources.push(kubernetesWorkloadOf(workload, clusterName));
  const user = optionalObject(details.value, details.path, 'kubernetesUserDetails');
  if (user) resources.push(kubernetesUserOf(user, clusterName));
  return resources;
};
