import { AwsFault } from '../errors.js';
import type { OperationContext } from '../protocols.js';
import type {
  FakeAccountState,
  FakeSecurityHubWorkflow,
  GuardDutyFinding,
  SecurityHubWorkflowStatus,
} from '../state.js';
import type { RestJsonOperation } from './guardduty.js';

/**
 * Security Hub (restJson1, PascalCase members as the API spells them). It holds the GuardDuty
 * integration's copy of every GuardDuty finding the fake holds (one with an ARN), in the Security Hub
 * of the ARN's region: `Id` the finding's ARN, `ProductArn` GuardDuty's product in that region. What
 * BatchUpdateFindings changes (workflow status, note) is kept in `state.securityHub.workflows`.
 */

const GUARDDUTY_ARN =
  /^arn:(aws[a-z-]*):guardduty:([a-z0-9-]+):(\d{12}):detector\/([a-z0-9]+)\/finding\/([a-z0-9]+)$/;
const WORKFLOW_STATUSES: readonly SecurityHubWorkflowStatus[] = ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'];
const MAX_IDENTIFIERS = 100;
const NOTE_MAX = 512;

export const guardDutyProductArn = (partition: string, region: string): string =>
  `arn:${partition}:securityhub:${region}::product/aws/guardduty`;

/** A GuardDuty finding's copy in Security Hub, before rendering. */
export interface SecurityHubCopy {
  id: string;
  productArn: string;
  partition: string;
  region: string;
  detectorId: string;
  finding: GuardDutyFinding;
  workflow: FakeSecurityHubWorkflow;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The workflow of a copy; NEW without a note until BatchUpdateFindings or the seed says otherwise. */
const workflowOf = (state: FakeAccountState, id: string): FakeSecurityHubWorkflow =>
  state.securityHub.workflows.get(id) ?? { status: 'NEW', notes: [] };

/** Every copy Security Hub holds, in one region or all of them, in the order GuardDuty holds the findings. */
export const securityHubCopies = (state: FakeAccountState, region?: string): SecurityHubCopy[] =>
  [...state.findings.values()].flatMap((findings) =>
    [...findings.values()].flatMap((finding) => {
      const match = GUARDDUTY_ARN.exec(String(finding.arn));
      if (!match) return [];
      const [id, partition = '', findingRegion = '', , detectorId = ''] = match;
      if (region !== undefined && findingRegion !== region) return [];
      return [
        {
          id,
          productArn: guardDutyProductArn(partition, findingRegion),
          partition,
          region: findingRegion,
          detectorId,
          finding,
          workflow: workflowOf(state, id),
        },
      ];
    }),
  );

const severityLabel = (severity: number): string =>
  severity >= 9
    ? 'CRITICAL'
    : severity >= 7
      ? 'HIGH'
      : severity >= 4
        ? 'MEDIUM'
        : severity > 0
          ? 'LOW'
          : 'INFORMATIONAL';

const archivedOf = (finding: GuardDutyFinding): boolean =>
  isObject(finding.service) && finding.service.archived === true;

/** The copy in the AWS Security Finding Format, with the fields the GuardDuty integration fills in. */
const renderCopy = (copy: SecurityHubCopy): Record<string, unknown> => {
  const { finding, workflow } = copy;
  const severity = typeof finding.severity === 'number' ? finding.severity : 0;
  const account = String(finding.accountId ?? '');
  return {
    SchemaVersion: '2018-10-08',
    Id: copy.id,
    ProductArn: copy.productArn,
    ProductName: 'GuardDuty',
    CompanyName: 'Amazon',
    Region: copy.region,
    GeneratorId: `arn:${copy.partition}:guardduty:${copy.region}:${account}:detector/${copy.detectorId}`,
    AwsAccountId: account,
    CreatedAt: finding.createdAt,
    UpdatedAt: finding.updatedAt,
    Severity: { Product: severity, Label: severityLabel(severity), Normalized: Math.round(severity * 10) },
    Title: finding.title,
    Description: finding.description,
    ProductFields: {
      'aws/guardduty/service/archived': String(archivedOf(finding)),
      'aws/securityhub/FindingId': `${copy.productArn}/${copy.id}`,
      'aws/securityhub/ProductName': 'GuardDuty',
      'aws/securityhub/CompanyName': 'Amazon',
    },
    Resources: [{ Type: 'Other', Id: copy.id, Partition: copy.partition, Region: copy.region }],
    Workflow: { Status: workflow.status },
    RecordState: archivedOf(finding) ? 'ARCHIVED' : 'ACTIVE',
    ...(workflow.note
      ? {
          Note: {
            Text: workflow.note.text,
            UpdatedBy: workflow.note.updatedBy,
            UpdatedAt: workflow.note.updatedAt,
          },
        }
      : {}),
  };
};

/** Security Hub's 400 for input it cannot take. */
const invalidInput = (message: string): AwsFault => new AwsFault('InvalidInputException', message, 400);

/** Every operation answers this while the account has not enabled Security Hub. */
const requireEnabled = ({ state }: OperationContext): void => {
  if (!state.securityHub.enabled) {
    throw new AwsFault(
      'InvalidAccessException',
      `Account ${state.accountId} is not subscribed to AWS Security Hub`,
      401,
    );
  }
};

/** The region of the request (its SigV4 credential scope), else the account's. */
const regionOf = (context: OperationContext): string => context.region ?? context.state.region;

// ---------------------------------------------------------------------------------------------
// GetFindings
// ---------------------------------------------------------------------------------------------

/** The string fields GetFindings can filter on here, and how each is read from a rendered copy. */
const FILTERABLE: Readonly<Record<string, (copy: Record<string, unknown>) => unknown>> = {
  Id: (copy) => copy.Id,
  ProductArn: (copy) => copy.ProductArn,
  AwsAccountId: (copy) => copy.AwsAccountId,
  Region: (copy) => copy.Region,
  GeneratorId: (copy) => copy.GeneratorId,
  ProductName: (copy) => copy.ProductName,
  RecordState: (copy) => copy.RecordState,
  WorkflowStatus: (copy) => (copy.Workflow as { Status: string }).Status,
  SeverityLabel: (copy) => (copy.Severity as { Label: string }).Label,
};

const POSITIVE = new Set(['EQUALS', 'PREFIX', 'CONTAINS']);
const NEGATIVE = new Set(['NOT_EQUALS', 'PREFIX_NOT_EQUALS', 'NOT_CONTAINS']);

const compares = (comparison: string, actual: string, value: string): boolean => {
  switch (comparison) {
    case 'EQUALS':
      return actual === value;
    case 'NOT_EQUALS':
      return actual !== value;
    case 'PREFIX':
      return actual.startsWith(value);
    case 'PREFIX_NOT_EQUALS':
      return !actual.startsWith(value);
    case 'CONTAINS':
      return actual.includes(value);
    default:
      return !actual.includes(value);
  }
};

interface StringFilter {
  value: string;
  comparison: string;
}

/**
 * A field's filters, as Security Hub combines them: a copy matches when it matches any of the
 * EQUALS, PREFIX and CONTAINS filters (if there are any) and all of the negated ones.
 */
const matchesField = (actual: string, filters: StringFilter[]): boolean => {
  const positive = filters.filter((filter) => POSITIVE.has(filter.comparison));
  const negative = filters.filter((filter) => NEGATIVE.has(filter.comparison));
  return (
    (positive.length === 0 || positive.some((filter) => compares(filter.comparison, actual, filter.value))) &&
    negative.every((filter) => compares(filter.comparison, actual, filter.value))
  );
};

const stringFilters = (name: string, value: unknown): StringFilter[] => {
  if (!FILTERABLE[name]) throw invalidInput(`fake-aws does not filter findings on ${name}`);
  if (!Array.isArray(value)) throw invalidInput(`Filters.${name} must be a list of string filters`);
  return value.map((filter) => {
    if (
      !isObject(filter) ||
      typeof filter.Value !== 'string' ||
      typeof filter.Comparison !== 'string' ||
      !(POSITIVE.has(filter.Comparison) || NEGATIVE.has(filter.Comparison))
    ) {
      throw invalidInput(`Filters.${name} holds a filter without a Value and a known Comparison`);
    }
    return { value: filter.Value, comparison: filter.Comparison };
  });
};

/** The findings of the request's region that match every filter; no paging (`NextToken` is ignored). */
const getFindings: RestJsonOperation = {
  method: 'POST',
  path: '/findings',
  run: ({ body }, context) => {
    requireEnabled(context);
    const filters = body.Filters ?? {};
    if (!isObject(filters)) throw invalidInput('Filters must be an object');
    const maxResults = body.MaxResults ?? 100;
    if (
      typeof maxResults !== 'number' ||
      !Number.isInteger(maxResults) ||
      maxResults < 1 ||
      maxResults > 100
    ) {
      throw invalidInput('MaxResults must be an integer from 1 to 100');
    }
    const fields = Object.entries(filters).map(([name, value]) => ({
      read: FILTERABLE[name]!,
      filters: stringFilters(name, value),
    }));
    const findings = securityHubCopies(context.state, regionOf(context))
      .map(renderCopy)
      .filter((copy) => fields.every((field) => matchesField(String(field.read(copy) ?? ''), field.filters)));
    return { Findings: findings.slice(0, maxResults) };
  },
};

// ---------------------------------------------------------------------------------------------
// BatchUpdateFindings
// ---------------------------------------------------------------------------------------------

/** The fields BatchUpdateFindings may change; the fake changes Workflow and Note and refuses the others. */
const UPDATABLE = new Set([
  'Note',
  'Workflow',
  'Severity',
  'VerificationState',
  'Confidence',
  'Criticality',
  'Types',
  'UserDefinedFields',
  'RelatedFindings',
]);

const readNote = (note: unknown): { text: string; updatedBy: string } | undefined => {
  if (note === undefined) return undefined;
  if (
    !isObject(note) ||
    typeof note.Text !== 'string' ||
    typeof note.UpdatedBy !== 'string' ||
    note.Text.trim() === '' ||
    note.UpdatedBy.trim() === ''
  ) {
    throw invalidInput('Note needs a Text and an UpdatedBy that are not empty');
  }
  if ([...note.Text].length > NOTE_MAX || [...note.UpdatedBy].length > NOTE_MAX) {
    throw invalidInput(`Note.Text and Note.UpdatedBy are at most ${NOTE_MAX} characters`);
  }
  return { text: note.Text, updatedBy: note.UpdatedBy };
};

const readStatus = (workflow: unknown): SecurityHubWorkflowStatus | undefined => {
  if (workflow === undefined) return undefined;
  const status = isObject(workflow) ? workflow.Status : undefined;
  if (!WORKFLOW_STATUSES.includes(status as SecurityHubWorkflowStatus)) {
    throw invalidInput(`Workflow.Status must be one of ${WORKFLOW_STATUSES.join(', ')}`);
  }
  return status as SecurityHubWorkflowStatus;
};

interface Identifier {
  Id: string;
  ProductArn: string;
}

const readIdentifiers = (value: unknown): Identifier[] => {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IDENTIFIERS) {
    throw invalidInput(`FindingIdentifiers must list 1 to ${MAX_IDENTIFIERS} findings`);
  }
  return value.map((identifier) => {
    if (
      !isObject(identifier) ||
      typeof identifier.Id !== 'string' ||
      typeof identifier.ProductArn !== 'string'
    ) {
      throw invalidInput('each of FindingIdentifiers needs an Id and a ProductArn');
    }
    return { Id: identifier.Id, ProductArn: identifier.ProductArn };
  });
};

/**
 * Updates the workflow status and the note of each finding named: found or not, the answer is 200, a
 * finding it did not update listed in `UnprocessedFindings` with its error code (FindingNotFound,
 * DuplicatedFindingIdentifier), as Security Hub does.
 */
const batchUpdateFindings: RestJsonOperation = {
  method: 'PATCH',
  path: '/findings/batchupdate',
  run: ({ body }, context) => {
    requireEnabled(context);
    const identifiers = readIdentifiers(body.FindingIdentifiers);
    const unsupported = Object.keys(body).filter(
      (name) => name !== 'FindingIdentifiers' && name !== 'Note' && name !== 'Workflow',
    );
    if (unsupported.some((name) => !UPDATABLE.has(name))) {
      throw invalidInput(`BatchUpdateFindings takes no ${unsupported.join(', ')}`);
    }
    if (unsupported.length > 0) throw invalidInput(`fake-aws does not update ${unsupported.join(', ')}`);
    const status = readStatus(body.Workflow);
    const note = readNote(body.Note);
    if (status === undefined && note === undefined) throw invalidInput('No fields to update were given');
    const copies = new Map(
      securityHubCopies(context.state, regionOf(context)).map((copy) => [
        `${copy.productArn} ${copy.id}`,
        copy,
      ]),
    );
    const keys = identifiers.map((identifier) => `${identifier.ProductArn} ${identifier.Id}`);
    const processed: Identifier[] = [];
    const unprocessed: Record<string, unknown>[] = [];
    const updatedAt = new Date().toISOString();
    identifiers.forEach((identifier, index) => {
      const key = keys[index]!;
      if (keys.indexOf(key) !== keys.lastIndexOf(key)) {
        unprocessed.push({
          FindingIdentifier: identifier,
          ErrorCode: 'DuplicatedFindingIdentifier',
          ErrorMessage: 'Duplicated Finding Identifier',
        });
        return;
      }
      const copy = copies.get(key);
      if (!copy) {
        unprocessed.push({
          FindingIdentifier: identifier,
          ErrorCode: 'FindingNotFound',
          ErrorMessage: 'Finding Not Found',
        });
        return;
      }
      const written = note && { ...note, updatedAt };
      context.state.securityHub.workflows.set(copy.id, {
        status: status ?? copy.workflow.status,
        ...(written ? { note: written } : copy.workflow.note ? { note: copy.workflow.note } : {}),
        notes: written ? [...copy.workflow.notes, written] : copy.workflow.notes,
      });
      processed.push(identifier);
    });
    return { ProcessedFindings: processed, UnprocessedFindings: unprocessed };
  },
};

export const securityHubOperations: Record<string, RestJsonOperation> = {
  GetFindings: getFindings,
  BatchUpdateFindings: batchUpdateFindings,
};
