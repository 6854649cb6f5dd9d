import { AwsFault } from '../errors.js';
import { GUARDDUTY_DETECTOR_NOT_OWNED } from '../faults.js';
import type { OperationContext } from '../protocols.js';
import type { FakeAccountState, GuardDutyFinding } from '../state.js';

/** A restJson1 request: the labels of its path, its query string and its JSON body. */
export interface RestJsonRequest {
  labels: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

export interface RestJsonOperation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The URI pattern, `{Label}` for a path segment (`/detector/{DetectorId}/findings/get`). */
  path: string;
  run(request: RestJsonRequest, context: OperationContext): Record<string, unknown>;
}

const MAX_FINDING_IDS = 50;

const INVALID_INPUT =
  'The request is rejected because an invalid or out-of-range value is specified as an input parameter.';

/** GuardDuty's 400s all say BadRequestException in `x-amzn-ErrorType`; the body types them InvalidInputException. */
const badRequest = (message: string): AwsFault =>
  new AwsFault('BadRequestException', message, 400, { __type: 'InvalidInputException' });

const findingsOf = (
  state: FakeAccountState,
  detectorId: string | undefined,
): Map<string, GuardDutyFinding> => {
  if (detectorId === undefined || !state.detectors.includes(detectorId)) {
    throw badRequest(GUARDDUTY_DETECTOR_NOT_OWNED);
  }
  return state.findings.get(detectorId) ?? new Map();
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The API carries `service.additionalInfo` as `{ value: <JSON text>, type: 'default' }`, where an
 * EventBridge `detail` may show it expanded (`{ recentCredentials: [...] }`): a stored finding in the
 * event's shape is answered in the API's.
 */
const asApiFinding = (finding: GuardDutyFinding): GuardDutyFinding => {
  const service = finding.service;
  if (!isObject(service) || !isObject(service.additionalInfo)) return finding;
  const { value, type, ...expanded } = service.additionalInfo;
  if (typeof value === 'string') return finding;
  const additionalInfo = {
    value: JSON.stringify(expanded),
    type: typeof type === 'string' ? type : 'default',
  };
  return { ...finding, service: { ...service, additionalInfo } };
};

const attribute = (finding: GuardDutyFinding, path: string): unknown =>
  path.split('.').reduce<unknown>((node, segment) => (isObject(node) ? node[segment] : undefined), finding);

const compareValues = (left: unknown, right: unknown): number => {
  if (left === undefined || left === null) return right === undefined || right === null ? 0 : 1;
  if (right === undefined || right === null) return -1;
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  return String(left).localeCompare(String(right));
};

/** `sortCriteria`: a dotted attribute path (`severity`, `service.count`), ASC unless `orderBy` is DESC. */
const sorted = (findings: GuardDutyFinding[], criteria: unknown): GuardDutyFinding[] => {
  if (criteria === undefined) return findings;
  if (!isObject(criteria)) throw badRequest(INVALID_INPUT);
  const { attributeName, orderBy = 'ASC' } = criteria;
  if (typeof attributeName !== 'string' || (orderBy !== 'ASC' && orderBy !== 'DESC')) {
    throw badRequest(INVALID_INPUT);
  }
  const direction = orderBy === 'DESC' ? -1 : 1;
  return [...findings].sort(
    (left, right) =>
      direction * compareValues(attribute(left, attributeName), attribute(right, attributeName)),
  );
};

/** Ids the detector does not hold are left out, as GuardDuty does; the rest come in request order. */
const getFindings: RestJsonOperation = {
  method: 'POST',
  path: '/detector/{DetectorId}/findings/get',
  run: ({ labels, body }, { state }) => {
    const ids = body.findingIds;
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      ids.length > MAX_FINDING_IDS ||
      ids.some((id) => typeof id !== 'string')
    ) {
      throw badRequest(INVALID_INPUT);
    }
    const findings = findingsOf(state, labels.DetectorId);
    const found = [...new Set(ids as string[])].flatMap((id) => {
      const finding = findings.get(id);
      return finding ? [asApiFinding(finding)] : [];
    });
    return { findings: sorted(found, body.sortCriteria) };
  },
};

/** `findingIds` of an Archive/UnarchiveFindings request: 1 to 50 strings, as GuardDuty takes them. */
const findingIdsOf = (body: Record<string, unknown>): string[] => {
  const ids = body.findingIds;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length > MAX_FINDING_IDS ||
    ids.some((id) => typeof id !== 'string')
  ) {
    throw badRequest(INVALID_INPUT);
  }
  return ids as string[];
};

/**
 * Sets `service.archived` of the findings the detector holds among the ids (the others are left
 * out, as GetFindings leaves them out); GetFindings shows the flag from then on.
 */
const setArchived =
  (archived: boolean): RestJsonOperation['run'] =>
  ({ labels, body }, { state }) => {
    const ids = findingIdsOf(body);
    const findings = findingsOf(state, labels.DetectorId);
    for (const id of ids) {
      const finding = findings.get(id);
      if (!finding) continue;
      const service = isObject(finding.service) ? finding.service : {};
      findings.set(id, { ...finding, service: { ...service, archived } });
    }
    return {};
  };

const archiveFindings: RestJsonOperation = {
  method: 'POST',
  path: '/detector/{DetectorId}/findings/archive',
  run: setArchived(true),
};

const unarchiveFindings: RestJsonOperation = {
  method: 'POST',
  path: '/detector/{DetectorId}/findings/unarchive',
  run: setArchived(false),
};

const listDetectors: RestJsonOperation = {
  method: 'GET',
  path: '/detector',
  run: (_request, { state }) => ({ detectorIds: [...state.detectors] }),
};

export const guardDutyOperations: Record<string, RestJsonOperation> = {
  ArchiveFindings: archiveFindings,
  GetFindings: getFindings,
  ListDetectors: listDetectors,
  UnarchiveFindings: unarchiveFindings,
};
