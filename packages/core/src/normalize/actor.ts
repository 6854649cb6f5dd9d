import { isIP } from 'node:net';
import type { Actor } from '../finding.js';
import {
  field,
  type JsonObject,
  type Located,
  objectsOf,
  optionalArray,
  optionalObject,
  optionalString,
  optionalText,
  stringsOf,
  toNumber,
  wrongType,
} from './read.js';

/** A port number (0-65535); `raw` is the value as written, for the error. */
export const checkedPort = (port: number, path: string, raw: unknown): number => {
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw wrongType(path, 'a port number (0-65535)', raw);
  return port;
};

const optionalPort = (obj: JsonObject, path: string, key: string): number | undefined => {
  const details = optionalObject(obj, path, key);
  const port = details && field(details.value, details.path, 'port');
  return port && checkedPort(toNumber(port.value, port.path), port.path, port.value);
};

/** Where the remote party sits: `remoteIpDetails` of any action kind. */
const readRemote = (actor: Actor, action: Located<JsonObject>): void => {
  const remote = optionalObject(action.value, action.path, 'remoteIpDetails');
  if (!remote) return;
  const { value, path } = remote;
  actor.remoteIp = optionalString(value, path, 'ipAddressV4') ?? optionalString(value, path, 'ipAddressV6');
  const country = optionalObject(value, path, 'country');
  if (country) actor.country = optionalString(country.value, country.path, 'countryName');
  const city = optionalObject(value, path, 'city');
  if (city) actor.city = optionalString(city.value, city.path, 'cityName');
  const organization = optionalObject(value, path, 'organization');
  if (organization) {
    actor.asn = optionalText(organization.value, organization.path, 'asn');
    actor.asnOrg = optionalString(organization.value, organization.path, 'asnOrg');
    actor.isp = optionalString(organization.value, organization.path, 'isp');
    actor.org = optionalString(organization.value, organization.path, 'org');
  }
};

const readApiCall = (actor: Actor, { value, path }: Located<JsonObject>): void => {
  actor.api = optionalString(value, path, 'api');
  actor.serviceName = optionalString(value, path, 'serviceName');
  actor.callerType = optionalString(value, path, 'callerType');
  actor.userAgent = optionalString(value, path, 'userAgent');
  actor.errorCode = optionalString(value, path, 'errorCode');
  const domain = optionalObject(value, path, 'domainDetails');
  if (domain) actor.domain = optionalString(domain.value, domain.path, 'domain');
};

const readNetworkConnection = (actor: Actor, { value, path }: Located<JsonObject>): void => {
  actor.protocol = optionalString(value, path, 'protocol');
  actor.localPort = optionalPort(value, path, 'localPortDetails');
  actor.remotePort = optionalPort(value, path, 'remotePortDetails');
};

const readDnsRequest = (actor: Actor, { value, path }: Located<JsonObject>): void => {
  actor.domain = optionalString(value, path, 'domain');
  actor.protocol = optionalString(value, path, 'protocol');
};

const readKubernetesApiCall = (actor: Actor, action: Located<JsonObject>, ips: string[]): void => {
  const { value, path } = action;
  actor.api = optionalString(value, path, 'verb');
  actor.userAgent = optionalString(value, path, 'userAgent');
  const sourceIps = stringsOf(optionalArray(value, path, 'sourceIPs'));
  ips.push(...sourceIps);
  // Calls from inside the cluster name only the source IPs, without remoteIpDetails.
  if (!actor.remoteIp) actor.remoteIp = sourceIps[0];
};

/** The remote address of a `remoteIpDetails` block, without reading the rest. */
const remoteAddress = (holder: Located<JsonObject>): string | undefined => {
  const remote = optionalObject(holder.value, holder.path, 'remoteIpDetails');
  return (
    remote &&
    (optionalString(remote.value, remote.path, 'ipAddressV4') ??
      optionalString(remote.value, remote.path, 'ipAddressV6'))
  );
};

/** The addresses among `candidates` that are IP addresses, each once, in order. */
export const ipAddresses = (candidates: readonly (string | undefined)[]): string[] => [
  ...new Set(candidates.filter((ip): ip is string => typeof ip === 'string' && isIP(ip) !== 0)),
];

/**
 * Adds `more` remote IP addresses to an actor (creating one when there is none): `remoteIps` lists
 * every address, `remoteIp` stays the action's own, or becomes the first address when there is none.
 */
export const withRemoteIps = (actor: Actor | undefined, more: readonly string[]): Actor | undefined => {
  const remoteIps = ipAddresses([actor?.remoteIp, ...(actor?.remoteIps ?? []), ...more]);
  if (remoteIps.length === 0) return actor;
  const merged: Actor = { ...actor, remoteIps };
  if (merged.remoteIp === undefined) merged.remoteIp = remoteIps[0];
  return merged;
};

/**
 * Who acted, from a GuardDuty `service.action` (or Security Hub's `Action`, the same shape in PascalCase).
 * Undefined when the action names nothing (Runtime findings carry `"action": {}`).
 */
export const actorOf = (action: Located<JsonObject>): Actor | undefined => {
  const actor: Actor = { actionType: optionalString(action.value, action.path, 'actionType') };
  const ips: string[] = [];
  const apiCall = optionalObject(action.value, action.path, 'awsApiCallAction');
  if (apiCall) {
    readApiCall(actor, apiCall);
    readRemote(actor, apiCall);
  }
  const connection = optionalObject(action.value, action.path, 'networkConnectionAction');
  if (connection) {
    readNetworkConnection(actor, connection);
    readRemote(actor, connection);
  }
  const dns = optionalObject(action.value, action.path, 'dnsRequestAction');
  if (dns) readDnsRequest(actor, dns);
  const probe = optionalObject(action.value, action.path, 'portProbeAction');
  if (probe) {
    // A probe lists every (local port, remote IP) pair; the first one stands for the actor.
    const details = objectsOf(optionalArray(probe.value, probe.path, 'portProbeDetails'));
    const [first] = details;
    if (first) {
      actor.localPort = optionalPort(first.value, first.path, 'localPortDetails');
      readRemote(actor, first);
    }
    for (const detail of details) {
      const address = remoteAddress(detail);
      if (address !== undefined) ips.push(address);
    }
  }
  const kubernetes = optionalObject(action.value, action.path, 'kubernetesApiCallAction');
  if (kubernetes) {
    readRemote(actor, kubernetes);
    readKubernetesApiCall(actor, kubernetes, ips);
  }
  const rdsLogin = optionalObject(action.value, action.path, 'rdsLoginAttemptAction');
  if (rdsLogin) readRemote(actor, rdsLogin);
  return withRemoteIps(withoutEmpty(actor), ips);
};

/** Drops unset fields; undefined when none is left. */
export const withoutEmpty = (actor: Actor): Actor | undefined => {
  let empty = true;
  for (const key of Object.keys(actor) as (keyof Actor)[]) {
    if (actor[key] === undefined) delete actor[key];
    else empty = false;
  }
  return empty ? undefined : actor;
};
