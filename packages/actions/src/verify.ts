import {
  type CallRecord,
  type Finding,
  FindingFormatError,
  normalizeFinding,
  resourceIdentifiers,
} from '@riposte/core';
import { errorName, isCredentialsError, isRetryable } from './aws-errors.js';
import { read, type SdkCall, sendCall } from './call.js';
import type { AwsScope, AwsServices } from './clients.js';

/**
 * What re-reading a finding from GuardDuty said:
 * - `verified`: GuardDuty holds the finding; `finding` is its copy, normalized, to act on instead of
 *   the delivered one;
 * - `refused`: GuardDuty does not hold it, or holds a different one (type, account or resources);
 * - `unavailable`: no credentials to ask with (an offline `riposte plan`);
 * - `failed`: GuardDuty could not be asked this time (throttling, 5xx); `retryable` says whether later may work.
 */
export type Verification =
  | { status: 'verified'; finding: Finding; detectorId: string; via: VerificationRoute; calls: CallRecord[] }
  | { status: 'refused'; reason: string; calls: CallRecord[] }
  | { status: 'unavailable'; reason: string; calls: CallRecord[] }
  | { status: 'failed'; reason: string; retryable: boolean; errorCode: string; calls: CallRecord[] };

/** Whose detector answered: the finding's own account's, the administrator's (the function's), or the member's through the member role. */
export type VerificationRoute = 'own-detector' | 'administrator-detector' | 'member-role';

/** Re-reads a delivered finding from its source. Library users and tests may supply their own. */
export interface FindingVerifier {
  verify(delivered: Finding): Promise<Verification>;
}

export interface GuardDutyVerifierOptions {
  /** Services signed as the function itself. */
  services: AwsServices;
  /** The function's own account; default: asked of STS through `services.callerIdentity`. */
  ownAccountId?: string;
  /** Services signed in the finding's member account (the member role), when one is configured. */
  memberServices?: (finding: Finding) => AwsServices | undefined;
}

// GuardDuty detector ids are 32 lowercase hex characters; the API allows up to 300 of [a-z0-9].
const DETECTOR_ID = /^[a-z0-9]{1,300}$/;
const FINDING_ARN =
  /^arn:(aws[a-z-]*):guardduty:([a-z0-9-]+):(\d{12}):detector\/([a-z0-9]{1,300})\/finding\/([A-Za-z0-9_-]{1,300})$/;

/**
 * GuardDuty's free-form maps, whose keys are data (`AWS::CloudTrail::Trail`, profile names), not member
 * names: how many levels of keys each holds.
 */
const MAP_MEMBERS: Readonly<Record<string, number>> = { AffectedResources: 1, Behavior: 2, Profiles: 2 };

/**
 * SDK member names whose wire name is not the member name in lowerCamel (the model's `jsonName`): an
 * attack sequence endpoint's `location` is `lat`/`lon` on the wire, `Latitude`/`Longitude` in the SDK;
 * a Kubernetes API call's `sourceIPs` is `SourceIps`.
 */
const WIRE_NAMES: Readonly<Record<string, string>> = {
  Latitude: 'lat',
  Longitude: 'lon',
  SourceIps: 'sourceIPs',
};

/**
 * The SDK returns GuardDuty's lowerCamel JSON with PascalCase member names. Riposte's model, and
 * playbook conditions over raw fields, read the wire spelling that EventBridge delivers, so the copy
 * is turned back into it.
 */
export const wireShape = (value: unknown, mapLevels = 0): unknown => {
  if (Array.isArray(value)) return value.map((item) => wireShape(item));
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) =>
      mapLevels > 0
        ? [key, wireShape(inner, mapLevels - 1)]
        : [
            WIRE_NAMES[key] ?? key.charAt(0).toLowerCase() + key.slice(1),
            wireShape(inner, MAP_MEMBERS[key] ?? 0),
          ],
    ),
  );
};

/**
 * The detector the finding says it came from, and the region that detector is in: its ARN, else
 * `service.detectorId` in the finding's region. GuardDuty has written findings whose `region` differs
 * from their ARN's (a global API call seen by another region's detector): the ARN's region is where
 * GuardDuty is asked, and its answer, compared with the delivered claim, settles the rest.
 */
const claimedDetector = (finding: Finding): { detectorId?: string; region: string; problem?: string } => {
  if (finding.arn !== undefined) {
    const match = FINDING_ARN.exec(finding.arn);
    if (!match) {
      return {
        region: finding.region,
        problem: `the finding ARN ${JSON.stringify(finding.arn.slice(0, 200))} is malformed`,
      };
    }
    const [, partition, region, account, detectorId, id] = match;
    if (partition !== finding.partition || account !== finding.accountId || id !== finding.id) {
      return {
        region: finding.region,
        problem: `the finding ARN ${finding.arn} does not name finding ${finding.id} of ${finding.accountId} in ${finding.partition}`,
      };
    }
    return { detectorId: detectorId!, region: region! };
  }
  const service = (finding.raw.service ?? finding.raw.Service) as Record<string, unknown> | undefined;
  const detectorId = service?.detectorId ?? service?.DetectorId;
  if (detectorId === undefined) return { region: finding.region };
  return typeof detectorId === 'string' && DETECTOR_ID.test(detectorId)
    ? { detectorId, region: finding.region }
    : { region: finding.region, problem: 'service.detectorId is not a GuardDuty detector id' };
};

/** `kind:identifier` for every identifier under which the finding names a resource. */
const namedResources = (finding: Finding): Set<string> =>
  new Set(
    finding.resources.flatMap((resource) =>
      resourceIdentifiers(resource).map((id) => `${resource.kind}:${id}`),
    ),
  );

/** Why the authoritative copy and the delivered claim disagree, or undefined when they agree. */
export const disagreement = (delivered: Finding, authoritative: Finding): string | undefined => {
  if (authoritative.id !== delivered.id) return `GuardDuty answered with finding ${authoritative.id}`;
  if (authoritative.accountId !== delivered.accountId)
    return `the finding belongs to account ${authoritative.accountId}, not ${delivered.accountId}`;
  if (authoritative.region !== delivered.region || authoritative.partition !== delivered.partition)
    return `the finding is in ${authoritative.partition}/${authoritative.region}, not ${delivered.partition}/${delivered.region}`;
  if (authoritative.type.name !== delivered.type.name)
    return `the finding's type is ${authoritative.type.name}, not ${JSON.stringify(delivered.type.name.slice(0, 256))}`;
  // The delivered copy may name fewer resources (ASFF lifts fewer), never one GuardDuty does not name.
  const known = namedResources(authoritative);
  const extra = [...namedResources(delivered)].filter((resource) => !known.has(resource));
  if (extra.length > 0)
    return `the delivered finding names resources GuardDuty's copy does not: ${extra
      .slice(0, 5)
      .map((item) => JSON.stringify(item.slice(0, 128)))
      .join(', ')}`;
  return undefined;
};

type Lookup =
  | { status: 'found'; raw: unknown }
  | { status: 'absent'; reason: string }
  | { status: 'error'; error: unknown };

/**
 * Verifies findings with `guardduty:GetFindings`. A finding of the function's own account is read
 * through the detector its ARN names. A member account's finding is read first through the
 * function's own detector, which is how a GuardDuty administrator sees its members' findings, then,
 * with a member role, through the member's detector.
 */
export const createGuardDutyVerifier = (options: GuardDutyVerifierOptions): FindingVerifier => {
  const ownDetectors = new Map<string, Promise<string | undefined>>();

  const verify = async (delivered: Finding): Promise<Verification> => {
    const calls: CallRecord[] = [];
    const claim = claimedDetector(delivered);
    if (claim.problem) return { status: 'refused', reason: claim.problem, calls };
    const scope: AwsScope = { accountId: delivered.accountId, region: claim.region };

    const send = async <O>(
      request: SdkCall<O>,
    ): Promise<{ ok: true; output: O } | { ok: false; error: unknown }> => {
      const result = await sendCall(request.call, request.send);
      calls.push(result.record);
      return result.ok ? { ok: true, output: result.output } : { ok: false, error: result.error };
    };

    const ownAccount = options.ownAccountId ?? (await options.services.callerIdentity(scope))?.account;
    if (ownAccount === undefined) {
      return { status: 'unavailable', reason: 'no credentials to ask GuardDuty with', calls };
    }

    const detectorOf = (services: AwsServices, callScope: AwsScope): Promise<string | undefined> => {
      const key = `${callScope.accountId}/${callScope.region}`;
      const cached = services === options.services ? ownDetectors.get(key) : undefined;
      if (cached) return cached;
      const pending = send(read({ services, target: callScope }, 'guardduty', 'ListDetectors', {})).then(
        (result) => {
          if (!result.ok) throw result.error;
          const [id] = result.output.DetectorIds ?? [];
          return id !== undefined && DETECTOR_ID.test(id) ? id : undefined;
        },
      );
      if (services === options.services) {
        ownDetectors.set(key, pending);
        pending.catch(() => ownDetectors.delete(key));
      }
      return pending;
    };

    const lookUp = async (
      services: AwsServices,
      callScope: AwsScope,
      detectorId: string | undefined,
    ): Promise<Lookup> => {
      let detector = detectorId;
      if (detector === undefined) {
        try {
          detector = await detectorOf(services, callScope);
        } catch (error) {
          return { status: 'error', error };
        }
        if (detector === undefined)
          return {
            status: 'absent',
            reason: `account ${callScope.accountId} has no GuardDuty detector in ${callScope.region}`,
          };
      }
      const result = await send(
        read({ services, target: callScope }, 'guardduty', 'GetFindings', {
          DetectorId: detector,
          FindingIds: [delivered.id],
        }),
      );
      if (!result.ok) {
        // A detector the account does not own answers BadRequestException: the claim is wrong.
        return errorName(result.error) === 'BadRequestException'
          ? {
              status: 'absent',
              reason: `detector ${detector} of account ${callScope.accountId} is not GuardDuty's answer`,
            }
          : { status: 'error', error: result.error };
      }
      const found = (result.output.Findings ?? []).find((candidate) => candidate.Id === delivered.id);
      return found
        ? { status: 'found', raw: found }
        : {
            status: 'absent',
            reason: `GuardDuty holds no finding ${delivered.id} for detector ${detector} in ${callScope.accountId}/${callScope.region}`,
          };
    };

    const routes: { via: VerificationRoute; services: AwsServices; scope: AwsScope; detectorId?: string }[] =
      [];
    if (delivered.accountId === ownAccount) {
      routes.push({
        via: 'own-detector',
        services: options.services,
        scope,
        ...(claim.detectorId ? { detectorId: claim.detectorId } : {}),
      });
    } else {
      routes.push({
        via: 'administrator-detector',
        services: options.services,
        scope: { accountId: ownAccount, region: delivered.region },
      });
      const member = options.memberServices?.(delivered);
      if (member)
        routes.push({
          via: 'member-role',
          services: member,
          scope,
          ...(claim.detectorId ? { detectorId: claim.detectorId } : {}),
        });
    }

    const reasons: string[] = [];
    for (const route of routes) {
      const lookup = await lookUp(route.services, route.scope, route.detectorId);
      if (lookup.status === 'absent') {
        reasons.push(lookup.reason);
        continue;
      }
      if (lookup.status === 'error') {
        const code = errorName(lookup.error) ?? 'UnknownError';
        if (isCredentialsError(lookup.error))
          return { status: 'unavailable', reason: 'no credentials to ask GuardDuty with', calls };
        if (isRetryable(lookup.error))
          return {
            status: 'failed',
            reason: `GuardDuty could not be asked: ${code}`,
            retryable: true,
            errorCode: code,
            calls,
          };
        // AccessDenied and the like: this route cannot vouch for the finding; another might.
        reasons.push(`GuardDuty refused to answer for ${route.scope.accountId}: ${code}`);
        continue;
      }
      let authoritative: Finding;
      try {
        authoritative = normalizeFinding(wireShape(lookup.raw));
      } catch (error) {
        const detail = error instanceof FindingFormatError ? error.message : String(error);
        return { status: 'refused', reason: `GuardDuty's copy could not be read: ${detail}`, calls };
      }
      const problem = disagreement(delivered, authoritative);
      if (problem)
        return {
          status: 'refused',
          reason: `the delivered finding disagrees with GuardDuty's copy: ${problem}`,
          calls,
        };
      const detectorId =
        (authoritative.arn ? FINDING_ARN.exec(authoritative.arn)?.[4] : undefined) ?? route.detectorId ?? '';
      return { status: 'verified', finding: authoritative, detectorId, via: route.via, calls };
    }
    return { status: 'refused', reason: reasons.join('; ') || 'GuardDuty does not hold this finding', calls };
  };

  return { verify };
};
