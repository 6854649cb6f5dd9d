import { AwsFault } from '../errors.js';
import type { OperationContext } from '../protocols.js';
import type { RestJsonRequest } from './guardduty.js';

/*
 * Lambda (restJson1), the operations quarantine-lambda-function and its inverse send. Paths, methods
 * and members as @aws-sdk/client-lambda 3.1178's schemas give them (dist-es/schemas/schemas_0.js):
 *   PUT    /2017-10-31/functions/{FunctionName}/concurrency      PutFunctionConcurrency   { ReservedConcurrentExecutions }
 *   GET    /2019-09-30/functions/{FunctionName}/concurrency      GetFunctionConcurrency   -> { ReservedConcurrentExecutions? }
 *   DELETE /2017-10-31/functions/{FunctionName}/concurrency      DeleteFunctionConcurrency
 *   GET    /2021-10-31/functions/{FunctionName}/url?Qualifier     GetFunctionUrlConfig     -> { FunctionUrl, FunctionArn, AuthType, Cors, CreationTime, LastModifiedTime, InvokeMode }
 *   POST   /2021-10-31/functions/{FunctionName}/url?Qualifier     CreateFunctionUrlConfig  { AuthType, Cors, InvokeMode }
 *   DELETE /2021-10-31/functions/{FunctionName}/url?Qualifier     DeleteFunctionUrlConfig
 *   GET    /2015-03-31/functions/{FunctionName}/policy?Qualifier  GetPolicy                -> { Policy, RevisionId }
 *   POST   /2015-03-31/functions/{FunctionName}/policy?Qualifier  AddPermission            { StatementId, Action, Principal, SourceArn, SourceAccount, EventSourceToken, PrincipalOrgID, FunctionUrlAuthType, InvokedViaFunctionUrl } -> { Statement }
 *   DELETE /2015-03-31/functions/{FunctionName}/policy/{StatementId}?Qualifier  RemovePermission
 * `FunctionName` is a name or an ARN (a version qualifier in the ARN is not accepted here). Errors
 * are ResourceNotFoundException (404) and InvalidParameterValueException (400), as Lambda sends them.
 */

/** A restJson1 operation of Lambda: its method (PUT and DELETE too), URI pattern and handler. */
export interface LambdaOperation {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  run(request: RestJsonRequest, context: OperationContext): Record<string, unknown>;
}

export interface LambdaFunctionSeed {
  name: string;
  /** Reserved concurrency; omitted: none. */
  reservedConcurrency?: number;
  /** The unqualified function URL; omitted: none. */
  url?: {
    authType: 'NONE' | 'AWS_IAM';
    invokeMode?: 'BUFFERED' | 'RESPONSE_STREAM';
    cors?: Record<string, unknown>;
  };
  /** Resource-policy statements of the unqualified function, as Lambda stores them. */
  statements?: Record<string, unknown>[];
  /** Published versions, each with its own statements. */
  versions?: Record<string, { statements?: Record<string, unknown>[] }>;
}

export interface FakeLambdaFunction {
  name: string;
  arn: string;
  reservedConcurrency?: number;
  url?: {
    authType: string;
    invokeMode: string;
    cors?: Record<string, unknown>;
    urlId: string;
    createdAt: string;
  };
  /** Statements by qualifier (`''`: the unqualified function). */
  policies: Map<string, Record<string, unknown>[]>;
  revision: number;
}

export const lambdaFunctionsOf = (
  seeds: readonly LambdaFunctionSeed[],
  accountId: string,
  region: string,
): Map<string, FakeLambdaFunction> =>
  new Map(
    seeds.map((seed, index) => {
      const fn: FakeLambdaFunction = {
        name: seed.name,
        arn: `arn:aws:lambda:${region}:${accountId}:function:${seed.name}`,
        ...(seed.reservedConcurrency === undefined ? {} : { reservedConcurrency: seed.reservedConcurrency }),
        ...(seed.url === undefined
          ? {}
          : {
              url: {
                authType: seed.url.authType,
                invokeMode: seed.url.invokeMode ?? 'BUFFERED',
                ...(seed.url.cors === undefined ? {} : { cors: seed.url.cors }),
                urlId: `url${index}${seed.name.toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 32),
                createdAt: '2024-03-01T12:00:00.000+0000',
              },
            }),
        policies: new Map([
          ['', structuredClone(seed.statements ?? [])],
          ...Object.entries(seed.versions ?? {}).map(
            ([version, value]): [string, Record<string, unknown>[]] => [
              version,
              structuredClone(value.statements ?? []),
            ],
          ),
        ]),
        revision: 1,
      };
      return [seed.name, fn];
    }),
  );

const notFound = (what: string): AwsFault =>
  new AwsFault('ResourceNotFoundException', what, 404, { Type: 'User' });

const invalid = (message: string): AwsFault =>
  new AwsFault('InvalidParameterValueException', message, 400, { Type: 'User' });

/** The function a `FunctionName` (a name or an unqualified ARN of this account and region) names. */
const functionOf = (request: RestJsonRequest, { state }: OperationContext): FakeLambdaFunction => {
  const given = request.labels.FunctionName ?? '';
  const arn = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]+)$/.exec(given);
  const name = arn ? arn[3] : given;
  if (arn && (arn[1] !== state.region || arn[2] !== state.accountId)) {
    throw notFound(`Function not found: ${given}`);
  }
  if (!arn && !/^[A-Za-z0-9_-]{1,64}$/.test(given)) {
    throw invalid("1 validation error detected: Value at 'functionName' failed to satisfy constraint");
  }
  const fn = state.lambdaFunctions.get(name ?? '');
  if (!fn)
    throw notFound(`Function not found: arn:aws:lambda:${state.region}:${state.accountId}:function:${name}`);
  return fn;
};

/** The statements of the qualifier the query names (a published version), or of the function. */
const statementsOf = (fn: FakeLambdaFunction, request: RestJsonRequest): Record<string, unknown>[] => {
  const qualifier = request.query.get('Qualifier') ?? '';
  if (qualifier === '$LATEST') throw invalid('We currently do not support adding policies for $LATEST.');
  const statements = fn.policies.get(qualifier);
  if (!statements) throw notFound(`Function not found: ${fn.arn}:${qualifier}`);
  return statements;
};

const resourceOf = (fn: FakeLambdaFunction, request: RestJsonRequest): string => {
  const qualifier = request.query.get('Qualifier');
  return qualifier ? `${fn.arn}:${qualifier}` : fn.arn;
};

const urlQualifier = (request: RestJsonRequest): void => {
  const qualifier = request.query.get('Qualifier');
  if (qualifier !== null && qualifier !== '$LATEST') {
    throw notFound('The resource you requested does not exist.');
  }
};

/** The statement AddPermission writes for its input, as Lambda stores it. */
const statementFor = (input: Record<string, unknown>, resource: string): Record<string, unknown> => {
  const principal = String(input.Principal ?? '');
  const condition: Record<string, Record<string, string>> = {};
  const add = (operator: string, key: string, value: unknown) => {
    if (value === undefined) return;
    condition[operator] = { ...condition[operator], [key]: String(value) };
  };
  add('ArnLike', 'AWS:SourceArn', input.SourceArn);
  add('StringEquals', 'AWS:SourceAccount', input.SourceAccount);
  add('StringEquals', 'aws:PrincipalOrgID', input.PrincipalOrgID);
  add('StringEquals', 'lambda:FunctionUrlAuthType', input.FunctionUrlAuthType);
  add('StringEquals', 'lambda:EventSourceToken', input.EventSourceToken);
  add('Bool', 'lambda:InvokedViaFunctionUrl', input.InvokedViaFunctionUrl === true ? 'true' : undefined);
  return {
    Sid: input.StatementId,
    Effect: 'Allow',
    Principal:
      principal === '*'
        ? '*'
        : /^\d{12}$/.test(principal)
          ? { AWS: `arn:aws:iam::${principal}:root` }
          : principal.startsWith('arn:')
            ? { AWS: principal }
            : { Service: principal },
    Action: input.Action,
    Resource: resource,
    ...(Object.keys(condition).length === 0 ? {} : { Condition: condition }),
  };
};

const urlOutput = (fn: FakeLambdaFunction, region: string): Record<string, unknown> => {
  const url = fn.url;
  if (!url) throw notFound('The resource you requested does not exist.');
  return {
    FunctionUrl: `https://${url.urlId}.lambda-url.${region}.on.aws/`,
    FunctionArn: fn.arn,
    AuthType: url.authType,
    ...(url.cors === undefined ? {} : { Cors: url.cors }),
    CreationTime: url.createdAt,
    LastModifiedTime: url.createdAt,
    InvokeMode: url.invokeMode,
  };
};

export const lambdaOperations: Record<string, LambdaOperation> = {
  PutFunctionConcurrency: {
    method: 'PUT',
    path: '/2017-10-31/functions/{FunctionName}/concurrency',
    run: (request, context) => {
      const fn = functionOf(request, context);
      const value = request.body.ReservedConcurrentExecutions;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw invalid('ReservedConcurrentExecutions must be a non-negative integer.');
      }
      fn.reservedConcurrency = value;
      return { ReservedConcurrentExecutions: value };
    },
  },
  GetFunctionConcurrency: {
    method: 'GET',
    path: '/2019-09-30/functions/{FunctionName}/concurrency',
    run: (request, context) => {
      const fn = functionOf(request, context);
      return fn.reservedConcurrency === undefined
        ? {}
        : { ReservedConcurrentExecutions: fn.reservedConcurrency };
    },
  },
  DeleteFunctionConcurrency: {
    method: 'DELETE',
    path: '/2017-10-31/functions/{FunctionName}/concurrency',
    run: (request, context) => {
      const fn = functionOf(request, context);
      delete fn.reservedConcurrency;
      return {};
    },
  },
  GetFunctionUrlConfig: {
    method: 'GET',
    path: '/2021-10-31/functions/{FunctionName}/url',
    run: (request, context) => {
      urlQualifier(request);
      return urlOutput(functionOf(request, context), context.state.region);
    },
  },
  CreateFunctionUrlConfig: {
    method: 'POST',
    path: '/2021-10-31/functions/{FunctionName}/url',
    run: (request, context) => {
      urlQualifier(request);
      const fn = functionOf(request, context);
      if (fn.url) {
        throw new AwsFault(
          'ResourceConflictException',
          `Failed to create function url config for [functionArn = ${fn.arn}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
          409,
          { Type: 'User' },
        );
      }
      const { AuthType, Cors, InvokeMode } = request.body;
      if (AuthType !== 'NONE' && AuthType !== 'AWS_IAM') throw invalid('AuthType must be NONE or AWS_IAM.');
      fn.url = {
        authType: AuthType,
        invokeMode: typeof InvokeMode === 'string' ? InvokeMode : 'BUFFERED',
        // Lambda keeps the URL's address: it derives from the function, not from the config.
        urlId: `url${fn.name.toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 32),
        createdAt: new Date().toISOString().replace('Z', '+0000'),
        ...(typeof Cors === 'object' && Cors !== null ? { cors: Cors as Record<string, unknown> } : {}),
      };
      const { LastModifiedTime: _modified, ...output } = urlOutput(fn, context.state.region);
      return output;
    },
  },
  DeleteFunctionUrlConfig: {
    method: 'DELETE',
    path: '/2021-10-31/functions/{FunctionName}/url',
    run: (request, context) => {
      urlQualifier(request);
      const fn = functionOf(request, context);
      if (!fn.url) throw notFound('The resource you requested does not exist.');
      delete fn.url;
      return {};
    },
  },
  GetPolicy: {
    method: 'GET',
    path: '/2015-03-31/functions/{FunctionName}/policy',
    run: (request, context) => {
      const fn = functionOf(request, context);
      const statements = statementsOf(fn, request);
      if (statements.length === 0) throw notFound('The resource you requested does not exist.');
      return {
        Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: statements }),
        RevisionId: `rev-${fn.revision}`,
      };
    },
  },
  AddPermission: {
    method: 'POST',
    path: '/2015-03-31/functions/{FunctionName}/policy',
    run: (request, context) => {
      const fn = functionOf(request, context);
      const statements = statementsOf(fn, request);
      const { StatementId, Action, Principal } = request.body;
      if (typeof StatementId !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(StatementId)) {
        throw invalid('StatementId is not valid.');
      }
      if (typeof Action !== 'string' || typeof Principal !== 'string') {
        throw invalid('Action and Principal are required.');
      }
      if (statements.some((statement) => statement.Sid === StatementId)) {
        throw new AwsFault(
          'ResourceConflictException',
          `The statement id (${StatementId}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
          409,
          { Type: 'User' },
        );
      }
      const statement = statementFor(request.body, resourceOf(fn, request));
      statements.push(statement);
      fn.revision += 1;
      return { Statement: JSON.stringify(statement) };
    },
  },
  RemovePermission: {
    method: 'DELETE',
    path: '/2015-03-31/functions/{FunctionName}/policy/{StatementId}',
    run: (request, context) => {
      const fn = functionOf(request, context);
      const statements = statementsOf(fn, request);
      const index = statements.findIndex((statement) => statement.Sid === request.labels.StatementId);
      if (index < 0) {
        throw notFound(`Statement ${request.labels.StatementId} is not found in resource policy.`);
      }
      statements.splice(index, 1);
      fn.revision += 1;
      return {};
    },
  },
};

/** JSON text with every object's keys sorted, so equal statements compare equal. */
const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, member: unknown) =>
    typeof member === 'object' && member !== null && !Array.isArray(member)
      ? Object.fromEntries(
          Object.keys(member)
            .sort()
            .map((key) => [key, (member as Record<string, unknown>)[key]]),
        )
      : member,
  );

/** Functions as `fake.snapshot()` lists them: concurrency, URL settings and statements (sorted by Sid). */
export const lambdaSnapshot = (functions: Map<string, FakeLambdaFunction>) =>
  Object.fromEntries(
    [...functions.values()]
      .sort((left, right) => (left.name < right.name ? -1 : 1))
      .map((fn) => [
        fn.name,
        {
          reservedConcurrency: fn.reservedConcurrency ?? null,
          url: fn.url
            ? { authType: fn.url.authType, invokeMode: fn.url.invokeMode, cors: fn.url.cors ?? null }
            : null,
          policies: Object.fromEntries(
            [...fn.policies.entries()]
              .sort(([left], [right]) => (left < right ? -1 : 1))
              .map(([qualifier, statements]) => [
                qualifier === '' ? '(function)' : qualifier,
                statements.map(canonicalJson).sort(),
              ]),
          ),
        },
      ]),
  );
