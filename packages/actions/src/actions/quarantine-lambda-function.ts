import type { AddPermissionRequest, Cors, FunctionUrlAuthType, InvokeMode } from '@aws-sdk/client-lambda';
import {
  type ActionContext,
  type ActionTarget,
  arnProblem,
  defineAction,
  defineInverse,
  type Finding,
  type InverseContext,
  isObject,
  type JsonSchema,
  type PermissionGrant,
  parseArn,
  regionPartition,
  resourcesOfKind,
} from '@riposte/core';
import { type Mutation, mutation, read } from '../call.js';
import type { AwsServices } from '../clients.js';
import { canonical } from '../policy-document.js';
import { placeholder, type Session } from '../session.js';
import { executeWith, type Inspection, inverseWith, noOp, planned, planWith, refused } from '../step.js';
import { invalidAccount, invalidId, resolved, shown, targetOf } from '../targets.js';

export type QuarantineLambdaFunctionParams = Record<string, never>;

type Context = ActionContext<QuarantineLambdaFunctionParams, AwsServices>;

const NOT_FOUND = ['ResourceNotFoundException'] as const;

/**
 * Every call names the function by its unqualified ARN in the finding's account and region (never a
 * bare name), so a function of that name elsewhere is never reached. Lambda authorises all of these
 * on the function resource type; the qualified ARN of a version (`function:name:3`) is matched by
 * the same pattern.
 */
const GRANTS: PermissionGrant[] = [
  {
    actions: [
      'lambda:GetFunctionConcurrency',
      'lambda:PutFunctionConcurrency',
      'lambda:GetFunctionUrlConfig',
      'lambda:DeleteFunctionUrlConfig',
      'lambda:GetPolicy',
      'lambda:RemovePermission',
    ],
    resources: ['arn:{partition}:lambda:*:{account}:function:*'],
  },
];

const UNDO_GRANTS: PermissionGrant[] = [
  {
    actions: [
      'lambda:GetFunctionConcurrency',
      'lambda:PutFunctionConcurrency',
      'lambda:DeleteFunctionConcurrency',
      'lambda:GetFunctionUrlConfig',
      'lambda:CreateFunctionUrlConfig',
      'lambda:GetPolicy',
      'lambda:AddPermission',
    ],
    resources: ['arn:{partition}:lambda:*:{account}:function:*'],
  },
];

// ---------------------------------------------------------------------------------------------
// Resource-policy statements
// ---------------------------------------------------------------------------------------------

/** A statement of a function's resource policy, as GetPolicy returns it (JSON, so anything). */
type Statement = Record<string, unknown>;

/**
 * Condition keys that restrict who may call (the caller's account, source ARN, organization, or an
 * Alexa token): a statement naming any of them is not public. IAM compares keys without case.
 */
const RESTRICTING_KEYS = new Set([
  'aws:sourceaccount',
  'aws:sourcearn',
  'aws:sourceowner',
  'aws:principalorgid',
  'aws:principalaccount',
  'aws:principalarn',
  'lambda:eventsourcetoken',
]);

const conditionKeysOf = (statement: Statement): string[] =>
  isObject(statement.Condition)
    ? Object.values(statement.Condition).flatMap((keys) => (isObject(keys) ? Object.keys(keys) : []))
    : [];

const anyone = (principal: unknown): boolean => {
  if (principal === '*') return true;
  if (!isObject(principal)) return false;
  const aws = principal.AWS;
  return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
};

/** An Allow statement for anyone (`*` or `{ AWS: '*' }`) without a condition restricting the caller. */
export const isPublicStatement = (statement: Statement): boolean =>
  statement.Effect === 'Allow' &&
  anyone(statement.Principal) &&
  !conditionKeysOf(statement).some((key) => RESTRICTING_KEYS.has(key.toLowerCase()));

/** The statements of a policy document, or `[]` when it is not one. */
const statementsOf = (policy: string | undefined): Statement[] => {
  if (policy === undefined) return [];
  try {
    const document: unknown = JSON.parse(policy);
    if (!isObject(document)) return [];
    const list = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    return list.filter(isObject);
  } catch {
    return [];
  }
};

/** RemovePermission's StatementId: 1-100 letters, digits, `-`, `_` and `.`. */
const SID = /^[A-Za-z0-9_.-]{1,100}$/;

/** Each condition AddPermission writes: operator, key (as Lambda spells it) and the input member. */
const CONDITIONS = [
  ['ArnLike', 'AWS:SourceArn', 'SourceArn'],
  ['StringEquals', 'AWS:SourceAccount', 'SourceAccount'],
  ['StringEquals', 'aws:PrincipalOrgID', 'PrincipalOrgID'],
  ['StringEquals', 'lambda:FunctionUrlAuthType', 'FunctionUrlAuthType'],
  ['StringEquals', 'lambda:EventSourceToken', 'EventSourceToken'],
  ['Bool', 'lambda:InvokedViaFunctionUrl', 'InvokedViaFunctionUrl'],
] as const;

/** The AddPermission input besides the function and qualifier. */
export type PermissionInput = Omit<AddPermissionRequest, 'FunctionName' | 'Qualifier' | 'RevisionId'>;

/**
 * The AddPermission input that writes exactly this statement on `resource`, or why there is none:
 * only what AddPermission itself writes is accepted (one Allow action on the function, a principal
 * `*`, a service or an account root, the conditions of its parameters with one value each).
 * `{ AWS: '*' }` is refused: AddPermission would write `*`, equivalent but not the same statement.
 */
export const permissionInput = (
  statement: Statement,
  resource: string,
): { input: PermissionInput } | { problem: string } => {
  const extra = Object.keys(statement).filter(
    (key) => !['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition'].includes(key),
  );
  if (extra.length > 0) return { problem: `it has ${extra.join(', ')}` };
  const { Sid, Effect, Principal, Action, Resource, Condition } = statement;
  if (typeof Sid !== 'string' || !SID.test(Sid)) return { problem: 'it has no valid Sid' };
  if (Effect !== 'Allow') return { problem: 'it is not an Allow statement' };
  if (typeof Action !== 'string' || !/^lambda:[A-Za-z]+$/.test(Action)) {
    return { problem: 'its Action is not one lambda action' };
  }
  if (Resource !== resource) return { problem: `its Resource is not ${resource}` };
  let principal: string;
  if (Principal === '*') principal = '*';
  else if (
    isObject(Principal) &&
    Object.keys(Principal).length === 1 &&
    typeof Principal.Service === 'string'
  ) {
    principal = Principal.Service;
  } else if (
    isObject(Principal) &&
    Object.keys(Principal).length === 1 &&
    typeof Principal.AWS === 'string' &&
    /^arn:[a-z-]+:iam::\d{12}:root$/.test(Principal.AWS)
  ) {
    principal = Principal.AWS.split(':')[4] ?? '';
  } else {
    return { problem: `its Principal ${shown(canonical(Principal))} is not one AddPermission writes` };
  }
  const input: PermissionInput = { StatementId: Sid, Action, Principal: principal };
  const members = input as Record<string, unknown>;
  if (Condition !== undefined) {
    if (!isObject(Condition)) return { problem: 'its Condition is not an object' };
    for (const [operator, keys] of Object.entries(Condition)) {
      if (!isObject(keys)) return { problem: `its ${operator} condition is not an object` };
      for (const [key, value] of Object.entries(keys)) {
        const known = CONDITIONS.find(([op, name]) => op === operator && name === key);
        if (known === undefined || typeof value !== 'string') {
          return { problem: `its condition ${operator} ${key} is not one AddPermission writes` };
        }
        const member = known[2];
        if (member === 'InvokedViaFunctionUrl') {
          if (value !== 'true') return { problem: `its condition ${key} is not "true"` };
          members[member] = true;
        } else members[member] = value;
      }
    }
  }
  return { input };
};

// ---------------------------------------------------------------------------------------------
// The action
// ---------------------------------------------------------------------------------------------

/** A function URL's settings, as CreateFunctionUrlConfig takes them back. */
export interface UrlSettings {
  AuthType: FunctionUrlAuthType;
  InvokeMode?: InvokeMode;
  Cors?: Cors;
}

/** A removed statement: its Sid, and the statement as a canonical JSON text. */
export interface RecordedStatement {
  sid: string;
  statement: string;
}

/** What inspecting the function found; a member is `undefined` when planning could not read it. */
interface State {
  functionArn: string;
  qualifier?: string;
  /** Reserved concurrency, or `none`. */
  concurrency: number | 'none' | undefined;
  url: UrlSettings | 'none' | undefined;
  /** Public statements to remove; `undefined` when the policy could not be read. */
  remove: RecordedStatement[] | undefined;
  /** Public statements RemovePermission cannot name (no valid Sid). */
  unremovable: string[];
}

/** The function version the finding names for this function, when it names one. */
const versionOf = (finding: Finding, name: string): string | undefined =>
  resourcesOfKind(finding, 'lambda-function').find((fn) => fn.name === name)?.version;

/** The qualifier of the policy calls: a published version; `$LATEST` is the unqualified function. */
const qualifierOf = (version: string | undefined): string | undefined =>
  version === undefined || version === '$LATEST' ? undefined : version;

const functionArnOf = (partition: string, target: ActionTarget): string =>
  `arn:${partition}:lambda:${target.region}:${target.accountId}:function:${target.id}`;

/** Why this target cannot be acted on at all: checked before any client is made or call is sent. */
const invalidTarget = (ctx: Context): string | undefined => {
  const { target, finding } = ctx;
  const invalid =
    invalidId('lambda-function-name', target.id) ??
    invalidAccount(target, finding) ??
    invalidId('region', target.region);
  if (invalid !== undefined) return `${invalid}; nothing was looked up or changed`;
  const version = versionOf(finding, target.id);
  const badVersion = version === undefined ? undefined : invalidId('lambda-version', version);
  if (badVersion !== undefined) return `${badVersion}; nothing was looked up or changed`;
  if (target.arn !== undefined) {
    const problem =
      arnProblem(target.arn, {
        partition: finding.partition,
        accountId: finding.accountId,
        region: target.region,
        service: 'lambda',
        resourcePrefix: 'function:',
      }) ??
      (parseArn(target.arn)?.resource.split(':')[1] === target.id
        ? undefined
        : `the function ARN ${shown(target.arn)} does not name function ${shown(target.id)}`);
    if (problem !== undefined) return `${problem}; nothing was looked up or changed`;
  }
  return undefined;
};

const urlSettings = (output: { AuthType?: string; InvokeMode?: string; Cors?: Cors }): UrlSettings => ({
  AuthType: output.AuthType as FunctionUrlAuthType,
  ...(output.InvokeMode === undefined ? {} : { InvokeMode: output.InvokeMode as InvokeMode }),
  ...(output.Cors === undefined ? {} : { Cors: output.Cors }),
});

interface Reads {
  concurrency: number | 'none' | 'gone' | undefined;
  url: UrlSettings | 'none' | undefined;
  statements: Statement[] | undefined;
}

/** Reads the function's reserved concurrency, URL and resource policy (the latter two only if it exists). */
const readFunction = async (
  ctx: { services: AwsServices; target: ActionTarget },
  session: Session,
  functionArn: string,
  qualifier: string | undefined,
): Promise<Reads> => {
  const FunctionName = functionArn;
  const name = ctx.target.id;
  const concurrency = await session.read(read(ctx, 'lambda', 'GetFunctionConcurrency', { FunctionName }), {
    key: name,
    found: (output) =>
      output.ReservedConcurrentExecutions === undefined
        ? `${name} has no reserved concurrency`
        : `${name} has reserved concurrency ${output.ReservedConcurrentExecutions}`,
    absent: { codes: NOT_FOUND, summary: `function ${name} does not exist` },
  });
  if (concurrency.status === 'absent') return { concurrency: 'gone', url: undefined, statements: undefined };
  const url = await session.read(read(ctx, 'lambda', 'GetFunctionUrlConfig', { FunctionName }), {
    key: name,
    found: (output) => `${name} has a function URL (auth ${output.AuthType ?? 'unknown'})`,
    absent: { codes: NOT_FOUND, summary: `${name} has no function URL` },
  });
  const policyInput = { FunctionName, ...(qualifier === undefined ? {} : { Qualifier: qualifier }) };
  const policy = await session.read(read(ctx, 'lambda', 'GetPolicy', policyInput), {
    key: qualifier === undefined ? name : `${name}:${qualifier}`,
    found: (output) => {
      const statements = statementsOf(output.Policy);
      const open = statements.filter(isPublicStatement);
      return `${statements.length} resource-policy statement(s), ${open.length} public${open.length === 0 ? '' : `: ${open.map((s) => shown(s.Sid ?? '(no Sid)')).join(', ')}`}`;
    },
    absent: { codes: NOT_FOUND, summary: `${name} has no resource policy` },
  });
  return {
    concurrency:
      concurrency.status === 'found'
        ? (concurrency.output.ReservedConcurrentExecutions ?? 'none')
        : undefined,
    url: url.status === 'found' ? urlSettings(url.output) : url.status === 'absent' ? 'none' : undefined,
    statements:
      policy.status === 'found'
        ? statementsOf(policy.output.Policy)
        : policy.status === 'absent'
          ? []
          : undefined,
  };
};

const inspect = async (ctx: Context, session: Session): Promise<Inspection<State>> => {
  const invalid = invalidTarget(ctx);
  if (invalid) return refused(invalid);
  const functionArn = functionArnOf(ctx.finding.partition, ctx.target);
  const qualifier = qualifierOf(versionOf(ctx.finding, ctx.target.id));
  const found = await readFunction(ctx, session, functionArn, qualifier);
  if (found.concurrency === 'gone') return noOp(`function ${ctx.target.id} no longer exists`);
  const open = found.statements?.filter(isPublicStatement);
  const state: State = {
    functionArn,
    ...(qualifier === undefined ? {} : { qualifier }),
    concurrency: found.concurrency,
    url: found.url,
    remove: open
      ?.filter((statement) => typeof statement.Sid === 'string' && SID.test(statement.Sid))
      .map((statement) => ({ sid: statement.Sid as string, statement: canonical(statement) })),
    unremovable: (open ?? [])
      .filter((statement) => typeof statement.Sid !== 'string' || !SID.test(statement.Sid))
      .map((statement) => canonical(statement)),
  };
  if (state.concurrency === 0 && state.url === 'none' && state.remove?.length === 0) {
    return noOp(
      `function ${ctx.target.id} is already quarantined: reserved concurrency 0, no function URL, no public resource-policy statement`,
    );
  }
  return planned(state);
};

const mutations = (ctx: Context, state: State): Mutation[] => {
  const FunctionName = state.functionArn;
  const qualified = state.qualifier === undefined ? {} : { Qualifier: state.qualifier };
  return [
    ...(state.concurrency === 0
      ? []
      : [
          mutation(ctx, 'lambda', 'PutFunctionConcurrency', {
            FunctionName,
            ReservedConcurrentExecutions: 0,
          }),
        ]),
    ...(state.url === 'none' ? [] : [mutation(ctx, 'lambda', 'DeleteFunctionUrlConfig', { FunctionName })]),
    ...(
      state.remove ?? [{ sid: placeholder('Sid of each public statement', 'GetPolicy'), statement: '' }]
    ).map((removed) =>
      mutation(ctx, 'lambda', 'RemovePermission', { FunctionName, ...qualified, StatementId: removed.sid }),
    ),
  ];
};

/** What the inverse reads back: the function, and each thing Riposte changed as it was before. */
export type QuarantineLambdaFunctionUndo = {
  functionArn: string;
  qualifier?: string;
  /** The reserved concurrency before, when Riposte set it to 0. */
  concurrency?: number | 'none';
  /** The function URL's settings, when Riposte deleted it. */
  url?: UrlSettings;
  /** The public statements Riposte removed. */
  statements?: RecordedStatement[];
};

const undoOf = (_ctx: Context, state: State): QuarantineLambdaFunctionUndo => ({
  functionArn: state.functionArn,
  ...(state.qualifier === undefined ? {} : { qualifier: state.qualifier }),
  ...(state.concurrency === 0 || state.concurrency === undefined ? {} : { concurrency: state.concurrency }),
  ...(state.url === 'none' || state.url === undefined ? {} : { url: state.url }),
  ...(state.remove === undefined || state.remove.length === 0 ? {} : { statements: state.remove }),
});

const step = {
  inspect,
  mutations,
  outputs: (_ctx: Context, state: State) => ({
    functionArn: state.functionArn,
    ...(state.qualifier === undefined ? {} : { qualifier: state.qualifier }),
    previousConcurrency: state.concurrency,
    removedUrl: state.url === 'none' ? null : state.url,
    removedStatements: (state.remove ?? []).map((removed) => removed.sid),
    // Public statements without a Sid RemovePermission can name: left; concurrency 0 still stops every invocation.
    publicStatementsLeft: state.unremovable,
  }),
  undo: undoOf,
};

// ---------------------------------------------------------------------------------------------
// Undo: concurrency, URL and statements back, while the function is still as Riposte left it
// ---------------------------------------------------------------------------------------------

type UndoContext = InverseContext<QuarantineLambdaFunctionUndo, AwsServices>;

const stringList = { type: 'array', items: { type: 'string', maxLength: 1024 }, maxItems: 100 };

const UNDO_STATE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    functionArn: {
      type: 'string',
      pattern: '^arn:[a-z-]+:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}$',
    },
    qualifier: { type: 'string', pattern: '^[0-9]{1,10}$' },
    concurrency: {
      oneOf: [
        { type: 'string', const: 'none' },
        { type: 'integer', minimum: 1 },
      ],
    },
    url: {
      type: 'object',
      additionalProperties: false,
      properties: {
        AuthType: { type: 'string', enum: ['NONE', 'AWS_IAM'] },
        InvokeMode: { type: 'string', enum: ['BUFFERED', 'RESPONSE_STREAM'] },
        Cors: {
          type: 'object',
          additionalProperties: false,
          properties: {
            AllowCredentials: { type: 'boolean' },
            AllowHeaders: stringList,
            AllowMethods: stringList,
            AllowOrigins: stringList,
            ExposeHeaders: stringList,
            MaxAge: { type: 'integer', minimum: 0, maximum: 86400 },
          },
          required: [],
        },
      },
      required: ['AuthType'],
    },
    statements: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          sid: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' },
          statement: { type: 'string', maxLength: 20480 },
        },
        required: ['sid', 'statement'],
      },
    },
  },
  required: ['functionArn'],
};

/** Why the recorded state cannot be acted on (checked again here, whoever validated it before), or `undefined`. */
const invalidUndo = ({ target, state }: UndoContext): string | undefined => {
  if (target.kind !== 'lambda-function')
    return `the recorded target is a ${shown(target.kind)}, not a Lambda function`;
  const invalid =
    invalidId('lambda-function-name', target.id) ??
    invalidId('account-id', target.accountId) ??
    invalidId('region', target.region);
  if (invalid !== undefined) return invalid;
  const partition = regionPartition(target.region);
  if (partition === undefined) return `the recorded region ${shown(target.region)} is in no known partition`;
  if (state.functionArn !== functionArnOf(partition, target)) {
    return `the recorded function ${shown(state.functionArn)} is not the recorded target ${shown(target.id)} in ${target.accountId} ${target.region}`;
  }
  if (state.qualifier !== undefined && invalidId('lambda-version', state.qualifier) !== undefined) {
    return invalidId('lambda-version', state.qualifier);
  }
  if (state.concurrency === undefined && state.url === undefined && (state.statements ?? []).length === 0) {
    return 'the recorded state names nothing Riposte changed';
  }
  return undefined;
};

/** What the inverse will do for each recorded change. */
interface Restore {
  concurrency?: number | 'none';
  url?: UrlSettings;
  statements: PermissionInput[];
  /** Recorded statements that cannot be re-added exactly, and why. */
  unbuildable: string[];
}

const describeConcurrency = (value: number | 'none'): string =>
  value === 'none' ? 'no reserved concurrency' : `reserved concurrency ${value}`;

/**
 * Restores only what Riposte left: reserved concurrency 0, no function URL, the removed statements
 * absent. A part already as before is done; anything else means someone changed the function since,
 * and nothing is restored.
 */
const inspectUndo = async (ctx: UndoContext, session: Session): Promise<Inspection<Restore>> => {
  const invalid = invalidUndo(ctx);
  if (invalid !== undefined) return refused(`refused: ${invalid}; nothing was looked up or changed`);
  const { functionArn, qualifier, concurrency, url, statements = [] } = ctx.state;
  const name = ctx.target.id;
  const found = await readFunction(ctx, session, functionArn, qualifier);
  if (found.concurrency === 'gone') return refused(`function ${name} no longer exists; nothing to restore`);
  const restore: Restore = { statements: [], unbuildable: [] };
  const changed: string[] = [];
  if (concurrency !== undefined && found.concurrency !== undefined) {
    if (found.concurrency === 0) restore.concurrency = concurrency;
    else if (found.concurrency !== concurrency) {
      changed.push(
        `it has ${describeConcurrency(found.concurrency)}, neither 0 nor the previous ${describeConcurrency(concurrency)}`,
      );
    }
  } else if (concurrency !== undefined) restore.concurrency = concurrency;
  if (url !== undefined && found.url !== undefined) {
    if (found.url === 'none') restore.url = url;
    else if (canonical(found.url) !== canonical(url))
      changed.push('it has a function URL other than the one removed');
  } else if (url !== undefined) restore.url = url;
  const resource = qualifier === undefined ? functionArn : `${functionArn}:${qualifier}`;
  for (const recorded of statements) {
    const now = found.statements?.find((statement) => statement.Sid === recorded.sid);
    if (now !== undefined) {
      if (canonical(now) !== recorded.statement)
        changed.push(`statement ${shown(recorded.sid)} is not the one removed`);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(recorded.statement);
    } catch {
      parsed = undefined;
    }
    const built = isObject(parsed)
      ? permissionInput(parsed, resource)
      : { problem: 'it is not a JSON object' };
    if ('problem' in built) restore.unbuildable.push(`${shown(recorded.sid)} (${built.problem})`);
    else if (built.input.StatementId !== recorded.sid)
      restore.unbuildable.push(`${shown(recorded.sid)} (its Sid differs)`);
    else restore.statements.push(built.input);
  }
  if (changed.length > 0) {
    return refused(`function ${name} changed since the response: ${changed.join('; ')}; not restored`);
  }
  const work =
    restore.concurrency !== undefined || restore.url !== undefined || restore.statements.length > 0;
  if (!work && restore.unbuildable.length > 0) {
    return refused(`refused: ${leftOf(restore)}`);
  }
  if (!work) return noOp(`function ${name} is already as it was before the response`);
  return planned(restore);
};

const leftOf = (restore: Restore): string | undefined =>
  restore.unbuildable.length === 0
    ? undefined
    : `resource-policy statement(s) ${restore.unbuildable.join(', ')} cannot be re-added exactly by AddPermission; left removed`;

const undoMutations = (ctx: UndoContext, restore: Restore): Mutation[] => {
  const FunctionName = ctx.state.functionArn;
  const qualified = ctx.state.qualifier === undefined ? {} : { Qualifier: ctx.state.qualifier };
  return [
    ...restore.statements.map((input) =>
      mutation(ctx, 'lambda', 'AddPermission', { FunctionName, ...qualified, ...input }),
    ),
    ...(restore.url === undefined
      ? []
      : [mutation(ctx, 'lambda', 'CreateFunctionUrlConfig', { FunctionName, ...restore.url })]),
    ...(restore.concurrency === undefined
      ? []
      : [
          restore.concurrency === 'none'
            ? mutation(ctx, 'lambda', 'DeleteFunctionConcurrency', { FunctionName })
            : mutation(ctx, 'lambda', 'PutFunctionConcurrency', {
                FunctionName,
                ReservedConcurrentExecutions: restore.concurrency,
              }),
        ]),
  ];
};

const undo = defineInverse<QuarantineLambdaFunctionUndo, AwsServices>({
  summary:
    "Put back the function's reserved concurrency (PutFunctionConcurrency, or DeleteFunctionConcurrency when it had none), its function URL with the recorded settings (CreateFunctionUrlConfig; the URL keeps its address, which derives from the function) and each removed public statement (AddPermission); only while the function is still as Riposte left it.",
  stateSchema: UNDO_STATE_SCHEMA,
  permissions: [
    'lambda:GetFunctionConcurrency',
    'lambda:PutFunctionConcurrency',
    'lambda:DeleteFunctionConcurrency',
    'lambda:GetFunctionUrlConfig',
    'lambda:CreateFunctionUrlConfig',
    'lambda:GetPolicy',
    'lambda:AddPermission',
  ],
  grants: () => UNDO_GRANTS,
  ...inverseWith({ inspect: inspectUndo, mutations: undoMutations, left: leftOf }),
});

/**
 * Quarantines each Lambda function the finding names: reserved concurrency 0 (no invocation runs,
 * whatever the version or alias), its function URL deleted, and every public statement of its
 * resource policy (of the version the finding names, when it names a published one) removed.
 * Every call names the function by its ARN in the finding's account and region.
 *
 * Undo: the previous concurrency, URL and statements go back while the function is as Riposte left it.
 */
export const quarantineLambdaFunction = defineAction<QuarantineLambdaFunctionParams, AwsServices>({
  name: 'quarantine-lambda-function',
  summary:
    'Stop a Lambda function the finding names from running: reserved concurrency 0, its function URL deleted, public resource-policy statements removed.',
  phase: 'contain',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {}, required: [] },
  permissions: [
    'lambda:GetFunctionConcurrency',
    'lambda:PutFunctionConcurrency',
    'lambda:GetFunctionUrlConfig',
    'lambda:DeleteFunctionUrlConfig',
    'lambda:GetPolicy',
    'lambda:RemovePermission',
  ],
  grants: () => GRANTS,
  resourceKinds: ['lambda-function'],
  example: '- action: quarantine-lambda-function',
  idempotency:
    'Skipped when the function already has reserved concurrency 0, no function URL and no public resource-policy statement (or no longer exists).',
  dryRun:
    "Refuses a malformed function name, version or ARN; looks up the function's reserved concurrency, function URL and resource policy; lists PutFunctionConcurrency 0, DeleteFunctionUrlConfig and RemovePermission per public statement, each only where needed.",

  targets: (finding) =>
    resolved(
      resourcesOfKind(finding, 'lambda-function').map((fn) =>
        targetOf(
          finding,
          'lambda-function',
          fn.name,
          fn.version === undefined ? `function ${fn.name}` : `function ${fn.name} (version ${fn.version})`,
          fn.arn === undefined
            ? {}
            : { arn: fn.arn.replace(/^(arn:[^:]*:lambda:[^:]*:[^:]*:function:[^:]*):.*$/, '$1') },
        ),
      ),
      'the finding names no Lambda function',
    ),

  plan: planWith(step),
  execute: executeWith(step),
  undo,
});
