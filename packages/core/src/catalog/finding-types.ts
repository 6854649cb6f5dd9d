/**
 * The GuardDuty finding-type catalog (see data/SOURCES.md): every type AWS documents, active or
 * retired, with its resource type and default severity. Reached only through `@riposte/core/catalog`,
 * so the Lambda bundle, which never needs it, does not carry it.
 */
import catalog from './data/guardduty-finding-types.json' with { type: 'json' };

/** AWS's default severity label for a type; `Variable` when AWS says it depends on context. */
export type CatalogSeverity = 'Low' | 'Medium' | 'High' | 'Critical' | 'Variable';

export interface FindingTypeEntry {
  /** e.g. `UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS` */
  readonly type: string;
  /** The `resource.resourceType` findings of this type carry; alternatives joined with `|`; null when unknown. */
  readonly resourceType: string | null;
  /** The default severity label; null when no source gave it. */
  readonly severity: CatalogSeverity | null;
  /** Retired by AWS: GuardDuty no longer raises it. */
  readonly deprecated: boolean;
  readonly threatPurpose: string;
  readonly dataSource?: string;
  /** The AWS documentation page the type is described on, e.g. `ec2`, `iam`, `s3`. */
  readonly docPage?: string;
}

const SEVERITIES: readonly (CatalogSeverity | null)[] = [
  'Low',
  'Medium',
  'High',
  'Critical',
  'Variable',
  null,
];

const entryOf = (raw: (typeof catalog)[number]): FindingTypeEntry => {
  const severity = raw.severity as CatalogSeverity | null;
  // The data file is checked in; a label outside the known set is a defect in it, caught by the tests.
  if (!SEVERITIES.includes(severity))
    throw new Error(`guardduty-finding-types.json: ${raw.type} has severity "${severity}"`);
  const entry: FindingTypeEntry = {
    type: raw.type,
    resourceType: raw.resourceType,
    severity,
    deprecated: raw.deprecated,
    threatPurpose: raw.threatPurpose,
    ...('dataSource' in raw && typeof raw.dataSource === 'string' ? { dataSource: raw.dataSource } : {}),
    ...(typeof raw.docPage === 'string' ? { docPage: raw.docPage } : {}),
  };
  return Object.freeze(entry);
};

/** Every catalogued type, active and retired, in the data file's order. */
export const FINDING_TYPES: readonly FindingTypeEntry[] = Object.freeze(catalog.map(entryOf));

/** The types GuardDuty still raises: the ones coverage is measured against. */
export const activeFindingTypes = (): FindingTypeEntry[] =>
  FINDING_TYPES.filter((entry) => !entry.deprecated);

const byType = new Map(FINDING_TYPES.map((entry) => [entry.type, entry]));

/** The catalog entry for a type, or undefined when the catalog does not list it. */
export const findingTypeEntry = (type: string): FindingTypeEntry | undefined => byType.get(type);
