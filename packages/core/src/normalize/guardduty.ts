/** GuardDuty's own finding format: the EventBridge `detail`, a GetFindings element, or the SDK v3 (PascalCase) shape. */
import { type Finding, severityLabel } from '../finding.js';
import { actorOf, withRemoteIps } from './actor.js';
import { attackOf } from './attack.js';
import { parseFindingType } from './finding-type.js';
import {
  field,
  isObject,
  type JsonObject,
  type Located,
  missing,
  optionalBoolean,
  optionalObject,
  optionalString,
  optionalTimestamp,
  parseArn,
  requiredString,
  toBoolean,
  toNumber,
  wrongType,
} from './read.js';
import { guardDutyResources } from './resources.js';
import { runtimeDetailsOf } from './runtime.js';
import { attackSequenceOf, sequenceRemoteIps, sequenceResources } from './sequence.js';

// Top-level fields of GuardDuty's own format, as the API and EventBridge spell them and as the SDK v3 does.
const GUARDDUTY_FIELDS = [
  'schemaVersion',
  'id',
  'type',
  'accountId',
  'arn',
  'region',
  'severity',
  'resource',
  'service',
  'createdAt',
  'updatedAt',
].flatMap((key) => [key, key.charAt(0).toUpperCase() + key.slice(1)]);

/**
 * Whether an object is written in GuardDuty's own format: it has at least one of the format's top-level
 * fields. A finding that misses the others is still one, and normalizing it names what is missing.
 */
export const isGuardDutyFinding = (value: JsonObject): boolean =>
  GUARDDUTY_FIELDS.some((key) => key in value);

/** GuardDuty severities run from 0 to 10 (10 for attack sequences). */
export const checkedSeverity = (severity: number, path: string, raw: unknown): number => {
  if (severity < 0 || severity > 10) throw wrongType(path, 'a severity from 0 to 10', raw);
  return severity;
};

/** `service.count`: how many times GuardDuty has seen the activity; 1 when not given. */
export const checkedCount = (count: Located<unknown> | undefined): number => {
  if (!count) return 1;
  const value = toNumber(count.value, count.path);
  if (!Number.isInteger(value) || value < 0)
    throw wrongType(count.path, 'a whole number of occurrences', count.value);
  return value;
};

const SAMPLE_IN_JSON = /"sample"\s*:\s*true/;

/**
 * Whether GuardDuty generated the finding as a sample: `additionalInfo.sample`, or `"sample": true`
 * inside the JSON text of `additionalInfo.value` (the SDK's form of the same field).
 */
export const isSampleInfo = (additionalInfo: Located<unknown> | undefined): boolean => {
  if (!additionalInfo) return false;
  if (typeof additionalInfo.value === 'string') return SAMPLE_IN_JSON.test(additionalInfo.value);
  if (!isObject(additionalInfo.value))
    throw wrongType(additionalInfo.path, 'an object', additionalInfo.value);
  const sample = field(additionalInfo.value, additionalInfo.path, 'sample');
  if (sample) return toBoolean(sample.value, sample.path);
  const text = field(additionalInfo.value, additionalInfo.path, 'value');
  return typeof text?.value === 'string' && SAMPLE_IN_JSON.test(text.value);
};

export const normalizeGuardDutyFinding = (finding: JsonObject, path: string): Finding => {
  const id = requiredString(finding, path, 'id');
  const typeName = requiredString(finding, path, 'type');
  const type = parseFindingType(typeName, field(finding, path, 'type')!.path);
  const accountId = requiredString(finding, path, 'accountId');
  const arn = optionalString(finding, path, 'arn');
  const arnParts = arn === undefined ? undefined : parseArn(arn);
  const region = optionalString(finding, path, 'region') ?? arnParts?.region;
  if (!region) throw missing(path, 'region', 'non-empty string');
  const partition = optionalString(finding, path, 'partition') ?? arnParts?.partition ?? 'aws';

  const severityField = field(finding, path, 'severity');
  if (!severityField) throw missing(path, 'severity', 'number');
  const severity = checkedSeverity(
    toNumber(severityField.value, severityField.path),
    severityField.path,
    severityField.value,
  );

  const resource = optionalObject(finding, path, 'resource');
  if (!resource) throw missing(path, 'resource', 'object');
  const resourceType = requiredString(resource.value, resource.path, 'resourceType');

  const service = optionalObject(finding, path, 'service');
  const action = service && optionalObject(service.value, service.path, 'action');
  const detection = service && optionalObject(service.value, service.path, 'detection');
  const sequenceBlock = detection && optionalObject(detection.value, detection.path, 'sequence');
  const sequence = sequenceBlock && attackSequenceOf(sequenceBlock);
  const { techniques, tactics } = attackOf(type, sequenceBlock);
  const scope = { partition, region, accountId };
  const resources = guardDutyResources(resource, resourceType, type, action, scope);
  if (sequenceBlock) resources.push(...sequenceResources(sequenceBlock, scope, resources));
  const runtime = runtimeDetailsOf(service && optionalObject(service.value, service.path, 'runtimeDetails'));

  return {
    id,
    arn,
    type,
    severity,
    severityLabel: severityLabel(severity),
    title: optionalString(finding, path, 'title'),
    description: optionalString(finding, path, 'description'),
    accountId,
    region,
    partition,
    createdAt: optionalTimestamp(finding, path, 'createdAt'),
    updatedAt: optionalTimestamp(finding, path, 'updatedAt'),
    firstSeen: service && optionalTimestamp(service.value, service.path, 'eventFirstSeen'),
    lastSeen: service && optionalTimestamp(service.value, service.path, 'eventLastSeen'),
    count: checkedCount(service && field(service.value, service.path, 'count')),
    archived: (service && optionalBoolean(service.value, service.path, 'archived')) ?? false,
    sample: isSampleInfo(service && field(service.value, service.path, 'additionalInfo')),
    resourceRole: service && optionalString(service.value, service.path, 'resourceRole'),
    resourceType,
    resources,
    actor: withRemoteIps(action && actorOf(action), sequence ? sequenceRemoteIps(sequence) : []),
    process: runtime.process,
    runtimeContext: runtime.runtimeContext,
    sequence,
    techniques,
    tactics,
    source: 'guardduty',
    raw: finding,
  };
};
