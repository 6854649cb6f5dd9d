/**
 * Evaluates a deployed role's policies for one request with @cloud-copilot/iam-simulate (Strict mode:
 * the request context is exactly what is given here). The request context is the one AWS would build
 * for a Lambda function's role session: principal keys, the resource's account (and organization),
 * the region, TLS, and the request's own keys (`iam:PassedToService`, `aws:RequestTag/*`, ...).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument, RolePolicies } from './policies.js';

export interface IamRequest {
  action: string;
  /** The resource ARN IAM authorizes against, or `*` for actions that support no resource. */
  resource: string;
  /** Keys of the request itself (merged over the context this module builds). */
  context?: Record<string, string | string[]>;
  /** The account owning the resource when its ARN has none (S3 buckets); default the principal's. */
  resourceAccount?: string;
  /** The organization of the resource's account; default the principal's when the accounts are the same. */
  resourceOrgId?: string | null;
  /** What made this request (the recorded call), for messages. */
  source: string;
}

export interface Principal {
  accountId: string;
  region: string;
  organizationId?: string;
  role: RolePolicies;
  sessionName: string;
}

export type Effect = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Decision {
  request: IamRequest;
  /** The whole evaluation (identity, boundary, and resource policy when one is given). */
  overall: Effect;
  /** The role's own policies alone: identity policies within the boundary. What the template decides. */
  policy: Effect;
  /** Why, in a line: the deciding statements, or the closest Allow statements and what did not match. */
  explain: string;
}

const FIXED_TIME = '2026-11-27T18:30:00Z';

const accountOf = (arn: string): string | undefined => /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1];
const regionOf = (arn: string): string | undefined => /^arn:[^:]+:[^:]*:([a-z0-9-]+):/.exec(arn)?.[1];

/** The request context AWS builds for the role session's request. */
export const contextFor = (principal: Principal, request: IamRequest): Record<string, string | string[]> => {
  const resourceAccount =
    request.resource === '*'
      ? principal.accountId
      : (accountOf(request.resource) ?? request.resourceAccount ?? principal.accountId);
  const resourceOrgId =
    request.resourceOrgId === null
      ? undefined
      : (request.resourceOrgId ??
        (resourceAccount === principal.accountId ? principal.organizationId : undefined));
  return {
    'aws:PrincipalArn': principal.role.roleArn,
    'aws:PrincipalAccount': principal.accountId,
    'aws:PrincipalType': 'AssumedRole',
    'aws:userid': `AROAEXAMPLEROLEID0001:${principal.sessionName}`,
    'aws:PrincipalIsAWSService': 'false',
    'aws:ViaAWSService': 'false',
    'aws:SecureTransport': 'true',
    'aws:CurrentTime': FIXED_TIME,
    'aws:EpochTime': String(Date.parse(FIXED_TIME) / 1000),
    'aws:RequestedRegion': regionOf(request.resource) ?? principal.region,
    'aws:ResourceAccount': resourceAccount,
    ...(principal.organizationId ? { 'aws:PrincipalOrgID': principal.organizationId } : {}),
    ...(resourceOrgId ? { 'aws:ResourceOrgID': resourceOrgId } : {}),
    // S3 sets its own key for the bucket owner on every request.
    ...(request.action.startsWith('s3:') ? { 's3:ResourceAccount': resourceAccount } : {}),
    ...request.context,
  };
};

type Analysis = {
  result: Effect;
  identityAnalysis?: StatementsAnalysis;
  permissionBoundaryAnalysis?: StatementsAnalysis;
};
type StatementsAnalysis = {
  result: Effect;
  denyStatements: StatementAnalysis[];
  allowStatements: StatementAnalysis[];
  unmatchedStatements: StatementAnalysis[];
};
type StatementAnalysis = {
  policyId: string;
  statement: { sid?: () => string | undefined; index?: () => number };
  actionMatch: boolean;
  resourceMatch: boolean;
  conditionMatch: unknown;
};

const label = (analysis: StatementAnalysis): string => {
  const sid = analysis.statement.sid?.();
  return `${analysis.policyId}/${sid ?? `#${analysis.statement.index?.() ?? '?'}`}`;
};

const explainOf = (analysis: Analysis): string => {
  const parts: string[] = [];
  for (const [name, part] of [
    ['identity', analysis.identityAnalysis],
    ['boundary', analysis.permissionBoundaryAnalysis],
  ] as const) {
    if (!part) continue;
    if (part.denyStatements.length > 0) {
      parts.push(`${name}: denied by ${part.denyStatements.map(label).join(', ')}`);
    } else if (part.allowStatements.length > 0) {
      parts.push(`${name}: allowed by ${part.allowStatements.map(label).join(', ')}`);
    } else {
      const near = part.unmatchedStatements
        .filter((statement) => statement.actionMatch)
        .map(
          (statement) =>
            `${label(statement)} (resource ${statement.resourceMatch ? 'matches' : 'does not match'}, condition ${String(statement.conditionMatch)})`,
        );
      parts.push(
        `${name}: no statement allows${near.length > 0 ? `; action matched by ${near.join(', ')}` : ''}`,
      );
    }
  }
  return parts.join('; ');
};

/** Combines the identity and boundary results as IAM does for a same-account request. */
const policyEffect = (analysis: Analysis): Effect => {
  const identity = analysis.identityAnalysis?.result ?? 'ImplicitlyDenied';
  const boundary = analysis.permissionBoundaryAnalysis?.result;
  if (identity === 'ExplicitlyDenied' || boundary === 'ExplicitlyDenied') return 'ExplicitlyDenied';
  if (identity === 'Allowed' && (boundary === undefined || boundary === 'Allowed')) return 'Allowed';
  return 'ImplicitlyDenied';
};

/**
 * Simulates one request by the role's session. `resourcePolicy` is the target's resource-based policy
 * when it has one that matters (a member role's trust policy for sts:AssumeRole).
 */
export const simulate = async (
  principal: Principal,
  request: IamRequest,
  resourcePolicy?: PolicyDocument,
): Promise<Decision> => {
  const sessionArn = principal.role.roleArn
    .replace(/^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/, 'arn:$1:sts::$2:assumed-role/$3')
    .concat(`/${principal.sessionName}`);
  const result = await runSimulation(
    {
      request: {
        principal: sessionArn,
        action: request.action,
        resource: {
          resource: request.resource,
          accountId: accountOf(request.resource) ?? request.resourceAccount ?? principal.accountId,
        },
        contextVariables: contextFor(principal, request),
      },
      identityPolicies: principal.role.identity,
      ...(principal.role.boundary ? { permissionBoundaryPolicies: [principal.role.boundary] } : {}),
      ...(resourcePolicy ? { resourcePolicy } : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    { simulationMode: 'Strict' },
  );
  if (result.resultType === 'error') {
    throw new Error(
      `iam-simulate refused ${request.action} on ${request.resource} (${request.source}): ${JSON.stringify(result.errors)}`,
    );
  }
  const analysis = (result.resultType === 'single'
    ? result.result.analysis
    : result.results[0]?.analysis) as unknown as Analysis | undefined;
  if (!analysis) {
    return {
      request,
      overall: result.overallResult,
      policy: 'ImplicitlyDenied',
      explain: 'no resource pattern matched',
    };
  }
  return {
    request,
    overall: result.overallResult,
    policy: policyEffect(analysis),
    explain: explainOf(analysis),
  };
};

/** `<action> on <resource> (<source>): <overall>/<policy>: <why>`, for assertion messages. */
export const describeDecision = (decision: Decision): string =>
  `${decision.request.action} on ${decision.request.resource} (${decision.request.source}): ${decision.overall}; the role's policies: ${decision.policy}; ${decision.explain}`;
