import {
  AddPermissionCommand,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionUrlConfigCommand,
  GetPolicyCommand,
  LambdaClient,
  LambdaServiceException,
  PutFunctionConcurrencyCommand,
  RemovePermissionCommand,
} from '@aws-sdk/client-lambda';
import { type EngineMode, hasInverse, type InverseContext, type UndoState } from '@riposte/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type QuarantineLambdaFunctionUndo,
  quarantineLambdaFunction,
} from '../../src/actions/quarantine-lambda-function.js';
import { type AwsServices, createAwsServices } from '../../src/clients.js';
import { canonical } from '../../src/policy-document.js';
import { createRegistry } from '../../src/registry.js';
import { FUNCTION_ARN, FUNCTION_NAME, lambdaCommandAndControl } from '../helpers/compute-findings.js';
import { contextFor, credentialsError, NOW, sentCommands } from '../helpers/context.js';
import { ACCOUNT, commandAndControl } from '../helpers/findings.js';

const lambda = mockClient(LambdaClient);

const notFound = (message = 'Function not found') =>
  new LambdaServiceException({
    name: 'ResourceNotFoundException',
    $fault: 'client',
    $metadata: { httpStatusCode: 404, requestId: 'not-found-1' },
    message,
  });

/** A statement AddPermission writes for `Principal: '*'` and `FunctionUrlAuthType: NONE`. */
const publicUrlStatement = {
  Sid: 'FunctionURLAllowPublicAccess',
  Effect: 'Allow',
  Principal: '*',
  Action: 'lambda:InvokeFunctionUrl',
  Resource: FUNCTION_ARN,
  Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } },
};

/** Not public: S3 of one account and bucket only. */
const s3Statement = {
  Sid: 's3-invoke',
  Effect: 'Allow',
  Principal: { Service: 's3.amazonaws.com' },
  Action: 'lambda:InvokeFunction',
  Resource: FUNCTION_ARN,
  Condition: {
    StringEquals: { 'AWS:SourceAccount': ACCOUNT },
    ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::acme-uploads' },
  },
};

/** Public, but with `{ AWS: '*' }`: AddPermission cannot write it back as it is. */
const anyAwsStatement = {
  Sid: 'any-aws',
  Effect: 'Allow',
  Principal: { AWS: '*' },
  Action: 'lambda:InvokeFunction',
  Resource: FUNCTION_ARN,
};

const policyOf = (statements: object[]) =>
  JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: statements });

const URL_SETTINGS = {
  AuthType: 'NONE' as const,
  InvokeMode: 'BUFFERED' as const,
  Cors: { AllowOrigins: ['*'], AllowMethods: ['GET'], MaxAge: 60 },
};

interface FunctionState {
  concurrency?: number;
  url?: typeof URL_SETTINGS;
  statements: object[];
}

/** A function whose concurrency, URL and policy change as the calls made to it say. */
const functionHolding = (initial: FunctionState) => {
  const fn: FunctionState = structuredClone(initial);
  lambda
    .on(GetFunctionConcurrencyCommand)
    .callsFake(() => (fn.concurrency === undefined ? {} : { ReservedConcurrentExecutions: fn.concurrency }));
  lambda.on(PutFunctionConcurrencyCommand).callsFake((input: { ReservedConcurrentExecutions: number }) => {
    fn.concurrency = input.ReservedConcurrentExecutions;
    return { ReservedConcurrentExecutions: fn.concurrency };
  });
  lambda.on(DeleteFunctionConcurrencyCommand).callsFake(() => {
    fn.concurrency = undefined;
    return {};
  });
  lambda.on(GetFunctionUrlConfigCommand).callsFake(() => {
    if (fn.url === undefined) throw notFound('The resource you requested does not exist.');
    return { ...fn.url, FunctionUrl: 'https://abc.lambda-url.us-east-2.on.aws/', FunctionArn: FUNCTION_ARN };
  });
  lambda.on(DeleteFunctionUrlConfigCommand).callsFake(() => {
    fn.url = undefined;
    return {};
  });
  lambda.on(CreateFunctionUrlConfigCommand).callsFake((input: typeof URL_SETTINGS) => {
    fn.url = { AuthType: input.AuthType, InvokeMode: input.InvokeMode, Cors: input.Cors };
    return {};
  });
  lambda.on(GetPolicyCommand).callsFake(() => {
    if (fn.statements.length === 0) throw notFound('The resource you requested does not exist.');
    return { Policy: policyOf(fn.statements), RevisionId: 'rev-1' };
  });
  lambda.on(RemovePermissionCommand).callsFake((input: { StatementId: string }) => {
    fn.statements = fn.statements.filter(
      (statement) => (statement as { Sid: string }).Sid !== input.StatementId,
    );
    return {};
  });
  lambda
    .on(AddPermissionCommand)
    .callsFake(
      (input: { StatementId: string; Action: string; Principal: string; FunctionUrlAuthType?: string }) => {
        const statement = {
          Sid: input.StatementId,
          Effect: 'Allow',
          Principal: input.Principal,
          Action: input.Action,
          Resource: FUNCTION_ARN,
          ...(input.FunctionUrlAuthType === undefined
            ? {}
            : { Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': input.FunctionUrlAuthType } } }),
        };
        fn.statements.push(statement);
        return { Statement: JSON.stringify(statement) };
      },
    );
  return fn;
};

/** An exposed function: 50 reserved, a public URL, a public URL statement and a private S3 one. */
const exposed = (): FunctionState => ({
  concurrency: 50,
  url: URL_SETTINGS,
  statements: [publicUrlStatement, s3Statement],
});

beforeEach(() => lambda.reset());
afterAll(() => lambda.restore());

describe('quarantine-lambda-function targets', () => {
  it('targets the function the finding names, with its version in the label', () => {
    expect(quarantineLambdaFunction.targets(lambdaCommandAndControl('3'), {}).targets).toEqual([
      expect.objectContaining({
        kind: 'lambda-function',
        id: FUNCTION_NAME,
        arn: FUNCTION_ARN,
        accountId: ACCOUNT,
        label: `function ${FUNCTION_NAME} (version 3)`,
      }),
    ]);
  });

  it('has no target on an EC2 finding', () => {
    expect(quarantineLambdaFunction.targets(commandAndControl(), {})).toEqual({
      targets: [],
      reason: 'the finding names no Lambda function',
    });
  });
});

describe('quarantine-lambda-function plan', () => {
  it('plans concurrency 0, the URL deleted and only the public statement removed', async () => {
    functionHolding(exposed());

    const plan = await quarantineLambdaFunction.plan(
      contextFor(quarantineLambdaFunction, lambdaCommandAndControl()),
    );

    expect(plan.status).toBe('planned');
    expect(plan.lookups.map((lookup) => lookup.summary)).toEqual([
      `${FUNCTION_NAME} has reserved concurrency 50`,
      `${FUNCTION_NAME} has a function URL (auth NONE)`,
      '2 resource-policy statement(s), 1 public: "FunctionURLAllowPublicAccess"',
    ]);
    expect(plan.calls).toEqual([
      {
        service: 'Lambda',
        operation: 'PutFunctionConcurrency',
        input: { FunctionName: FUNCTION_ARN, ReservedConcurrentExecutions: 0 },
        mutating: true,
      },
      {
        service: 'Lambda',
        operation: 'DeleteFunctionUrlConfig',
        input: { FunctionName: FUNCTION_ARN },
        mutating: true,
      },
      {
        service: 'Lambda',
        operation: 'RemovePermission',
        input: { FunctionName: FUNCTION_ARN, StatementId: 'FunctionURLAllowPublicAccess' },
        mutating: true,
      },
    ]);
  });

  it('qualifies the policy calls with a published version the finding names', async () => {
    functionHolding(exposed());

    const plan = await quarantineLambdaFunction.plan(
      contextFor(quarantineLambdaFunction, lambdaCommandAndControl('3')),
    );

    expect(lambda.commandCalls(GetPolicyCommand)[0]?.args[0].input).toEqual({
      FunctionName: FUNCTION_ARN,
      Qualifier: '3',
    });
    expect(plan.calls.at(-1)?.input).toEqual({
      FunctionName: FUNCTION_ARN,
      Qualifier: '3',
      StatementId: 'FunctionURLAllowPublicAccess',
    });
  });

  it('plans a no-op when the function is already quarantined', async () => {
    functionHolding({ concurrency: 0, statements: [s3Statement] });

    const plan = await quarantineLambdaFunction.plan(
      contextFor(quarantineLambdaFunction, lambdaCommandAndControl()),
    );

    expect(plan).toMatchObject({ status: 'no-op', calls: [] });
    expect(plan.reason).toContain('is already quarantined');
  });

  it('plans a no-op when the function no longer exists', async () => {
    lambda.on(GetFunctionConcurrencyCommand).rejects(notFound());

    const plan = await quarantineLambdaFunction.plan(
      contextFor(quarantineLambdaFunction, lambdaCommandAndControl()),
    );

    expect(plan).toMatchObject({ status: 'no-op', reason: `function ${FUNCTION_NAME} no longer exists` });
    expect(sentCommands(lambda)).toEqual(['GetFunctionConcurrencyCommand']);
  });

  it('plans offline, with a placeholder for the statements it would remove', async () => {
    lambda.on(GetFunctionConcurrencyCommand).rejects(credentialsError());

    const plan = await quarantineLambdaFunction.plan(
      contextFor(quarantineLambdaFunction, lambdaCommandAndControl()),
    );

    expect(plan.status).toBe('planned');
    expect(plan.lookups.map((lookup) => lookup.status)).toEqual([
      'unavailable',
      'unavailable',
      'unavailable',
    ]);
    expect(plan.calls.map((call) => call.operation)).toEqual([
      'PutFunctionConcurrency',
      'DeleteFunctionUrlConfig',
      'RemovePermission',
    ]);
    expect(plan.calls[2]?.input.StatementId).toBe('<Sid of each public statement from GetPolicy>');
  });

  it('sends no mutating command while planning', async () => {
    functionHolding(exposed());

    await quarantineLambdaFunction.plan(contextFor(quarantineLambdaFunction, lambdaCommandAndControl()));

    expect(sentCommands(lambda)).toEqual([
      'GetFunctionConcurrencyCommand',
      'GetFunctionUrlConfigCommand',
      'GetPolicyCommand',
    ]);
  });
});

describe('quarantine-lambda-function execute', () => {
  it('quarantines the function and reports what it removed', async () => {
    const fn = functionHolding(exposed());
    const ctx = contextFor(quarantineLambdaFunction, lambdaCommandAndControl());

    const outcome = await quarantineLambdaFunction.execute(ctx, await quarantineLambdaFunction.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(fn).toEqual({ concurrency: 0, url: undefined, statements: [s3Statement] });
    expect(outcome.outputs).toMatchObject({
      functionArn: FUNCTION_ARN,
      previousConcurrency: 50,
      removedUrl: URL_SETTINGS,
      removedStatements: ['FunctionURLAllowPublicAccess'],
      publicStatementsLeft: [],
    });
  });

  it('makes only the calls still needed when part is already done', async () => {
    functionHolding({ concurrency: 0, statements: [publicUrlStatement] });
    const ctx = contextFor(quarantineLambdaFunction, lambdaCommandAndControl());

    const outcome = await quarantineLambdaFunction.execute(ctx, await quarantineLambdaFunction.plan(ctx));

    expect(outcome.status).toBe('applied');
    expect(outcome.calls.filter((call) => call.mutating).map((call) => call.operation)).toEqual([
      'RemovePermission',
    ]);
  });

  it('skips when the function was quarantined since planning', async () => {
    const fn = functionHolding(exposed());
    const ctx = contextFor(quarantineLambdaFunction, lambdaCommandAndControl());
    const plan = await quarantineLambdaFunction.plan(ctx);
    Object.assign(fn, { concurrency: 0, url: undefined, statements: [] });

    const outcome = await quarantineLambdaFunction.execute(ctx, plan);

    expect(outcome.status).toBe('skipped');
    expect(outcome.undo).toBeUndefined();
    expect(lambda.commandCalls(PutFunctionConcurrencyCommand)).toHaveLength(0);
  });

  it('fails with the SDK error name when Lambda refuses, keeping what it changed for undo', async () => {
    functionHolding(exposed());
    lambda.on(DeleteFunctionUrlConfigCommand).rejects(
      new LambdaServiceException({
        name: 'TooManyRequestsException',
        $fault: 'client',
        $metadata: { httpStatusCode: 429, requestId: 'throttled-1' },
        message: 'Rate exceeded',
      }),
    );
    const ctx = contextFor(quarantineLambdaFunction, lambdaCommandAndControl());

    const outcome = await quarantineLambdaFunction.execute(ctx, await quarantineLambdaFunction.plan(ctx));

    expect(outcome).toMatchObject({
      status: 'failed',
      error: { code: 'TooManyRequestsException', retryable: true, details: { requestId: 'throttled-1' } },
    });
    expect(outcome.undo).toMatchObject({ functionArn: FUNCTION_ARN, concurrency: 50 });
  });

  it('refuses to mutate when handed a dry-run context', async () => {
    functionHolding(exposed());
    const ctx = contextFor(quarantineLambdaFunction, lambdaCommandAndControl(), { mode: 'dry-run' });

    const outcome = await quarantineLambdaFunction.execute(ctx, await quarantineLambdaFunction.plan(ctx));

    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(lambda.commandCalls(PutFunctionConcurrencyCommand)).toHaveLength(0);
    expect(outcome.undo).toBeUndefined();
  });
});

describe('quarantine-lambda-function against a forged finding', () => {
  const forged = (change: (resource: Record<string, unknown>) => void) => {
    const finding = lambdaCommandAndControl();
    change(finding.resources[0] as unknown as Record<string, unknown>);
    return finding;
  };

  it.each([
    ['a name with a wildcard', forged((fn) => Object.assign(fn, { name: 'orders-*', arn: undefined }))],
    [
      'an ARN of another account',
      forged((fn) => Object.assign(fn, { arn: FUNCTION_ARN.replace(ACCOUNT, '444455556666') })),
    ],
    ['an ARN of another function', forged((fn) => Object.assign(fn, { arn: `${FUNCTION_ARN}-other` }))],
    ['a malformed version', forged((fn) => Object.assign(fn, { version: '3 ' }))],
  ])('refuses %s without any AWS call', async (_what, finding) => {
    const ctx = contextFor(quarantineLambdaFunction, finding);

    const plan = await quarantineLambdaFunction.plan(ctx);
    const outcome = await quarantineLambdaFunction.execute(ctx, plan);

    expect(plan).toMatchObject({ status: 'refused', calls: [], lookups: [] });
    expect(outcome).toMatchObject({ status: 'failed', calls: [], error: { code: 'REFUSED' } });
    expect(sentCommands(lambda)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Undo
// ---------------------------------------------------------------------------------------------

const inverse = (() => {
  const { undo } = quarantineLambdaFunction;
  if (!hasInverse(undo)) throw new Error('quarantine-lambda-function declares no inverse');
  return undo;
})();

const functionTarget = () => quarantineLambdaFunction.targets(lambdaCommandAndControl(), {}).targets[0]!;

/** What an enforced step records for the exposed function. */
const recorded = (): QuarantineLambdaFunctionUndo => ({
  functionArn: FUNCTION_ARN,
  concurrency: 50,
  url: URL_SETTINGS,
  statements: [{ sid: 'FunctionURLAllowPublicAccess', statement: canonical(publicUrlStatement) }],
});

const undoContext = (
  state: unknown,
  mode: EngineMode = 'enforce',
): InverseContext<UndoState, AwsServices> => ({
  findingId: lambdaCommandAndControl().id,
  target: functionTarget(),
  state: state as UndoState,
  services: createAwsServices({ env: {} }),
  mode,
  now: NOW,
});

const undo = async (state: unknown, mode: EngineMode = 'enforce') => {
  const ctx = undoContext(state, mode);
  const plan = await inverse.plan(ctx);
  return { plan, outcome: await inverse.execute(ctx, plan) };
};

/** The exposed function as the quarantine left it. */
const quarantined = (): FunctionState => ({ concurrency: 0, statements: [s3Statement] });

describe('quarantine-lambda-function undo: what the step records', () => {
  it('records the previous concurrency, URL settings and removed statements', async () => {
    functionHolding(exposed());
    const ctx = contextFor(quarantineLambdaFunction, lambdaCommandAndControl());

    const outcome = await quarantineLambdaFunction.execute(ctx, await quarantineLambdaFunction.plan(ctx));

    expect(outcome.undo).toEqual(recorded());
    expect(
      createRegistry([quarantineLambdaFunction]).validateUndoState(
        'quarantine-lambda-function',
        outcome.undo,
      ),
    ).toEqual([]);
  });

  it('records that the function had no reserved concurrency, and nothing it did not change', async () => {
    functionHolding({ statements: [] });
    const ctx = contextFor(quarantineLambdaFunction, lambdaCommandAndControl());

    const outcome = await quarantineLambdaFunction.execute(ctx, await quarantineLambdaFunction.plan(ctx));

    expect(outcome.undo).toEqual({ functionArn: FUNCTION_ARN, concurrency: 'none' });
  });
});

describe('quarantine-lambda-function undo: plan', () => {
  it('plans the statements, the URL and the concurrency back while the function is as Riposte left it', async () => {
    functionHolding(quarantined());

    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan.status).toBe('planned');
    expect(plan.calls).toEqual([
      {
        service: 'Lambda',
        operation: 'AddPermission',
        input: {
          FunctionName: FUNCTION_ARN,
          StatementId: 'FunctionURLAllowPublicAccess',
          Action: 'lambda:InvokeFunctionUrl',
          Principal: '*',
          FunctionUrlAuthType: 'NONE',
        },
        mutating: true,
      },
      {
        service: 'Lambda',
        operation: 'CreateFunctionUrlConfig',
        input: { FunctionName: FUNCTION_ARN, ...URL_SETTINGS },
        mutating: true,
      },
      {
        service: 'Lambda',
        operation: 'PutFunctionConcurrency',
        input: { FunctionName: FUNCTION_ARN, ReservedConcurrentExecutions: 50 },
        mutating: true,
      },
    ]);
  });

  it('plans a no-op when the function is already as before', async () => {
    functionHolding(exposed());

    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan).toMatchObject({
      status: 'no-op',
      reason: `function ${FUNCTION_NAME} is already as it was before the response`,
    });
  });

  it('refuses when someone changed the concurrency since, and leaves everything', async () => {
    functionHolding({ ...quarantined(), concurrency: 5 });

    const { plan, outcome } = await undo(recorded());

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain(
      'it has reserved concurrency 5, neither 0 nor the previous reserved concurrency 50',
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REFUSED' } });
    expect(lambda.commandCalls(AddPermissionCommand)).toHaveLength(0);
  });

  it('refuses when a different function URL was created since', async () => {
    functionHolding({ ...quarantined(), url: { ...URL_SETTINGS, AuthType: 'AWS_IAM' as never } });

    const plan = await inverse.plan(undoContext(recorded()));

    expect(plan.status).toBe('refused');
    expect(plan.reason).toContain('it has a function URL other than the one removed');
  });

  it('re-adds the statements it can rebuild and says which it cannot', async () => {
    functionHolding(quarantined());

    const plan = await inverse.plan(
      undoContext({
        ...recorded(),
        statements: [...recorded().statements!, { sid: 'any-aws', statement: canonical(anyAwsStatement) }],
      }),
    );

    expect(plan.status).toBe('planned');
    expect(plan.calls.filter((call) => call.operation === 'AddPermission')).toHaveLength(1);
    expect(plan.reason).toContain('"any-aws" (its Principal');
    expect(plan.reason).toContain('cannot be re-added exactly by AddPermission; left removed');
  });

  it('plans a delete of the concurrency when the function had none', async () => {
    functionHolding({ concurrency: 0, statements: [] });

    const plan = await inverse.plan(undoContext({ functionArn: FUNCTION_ARN, concurrency: 'none' }));

    expect(plan.calls).toEqual([
      {
        service: 'Lambda',
        operation: 'DeleteFunctionConcurrency',
        input: { FunctionName: FUNCTION_ARN },
        mutating: true,
      },
    ]);
  });
});

describe('quarantine-lambda-function undo: execute', () => {
  it('round-trips: quarantine, then undo, leaves the function as it was', async () => {
    const fn = functionHolding(exposed());
    const ctx = contextFor(quarantineLambdaFunction, lambdaCommandAndControl());
    const done = await quarantineLambdaFunction.execute(ctx, await quarantineLambdaFunction.plan(ctx));

    const { outcome } = await undo(done.undo);

    expect(outcome.status).toBe('applied');
    expect(fn.concurrency).toBe(50);
    expect(fn.url).toEqual(URL_SETTINGS);
    expect(fn.statements.map(canonical).sort()).toEqual(
      [publicUrlStatement, s3Statement].map(canonical).sort(),
    );
  });

  it('skips when run again: the function is already as before', async () => {
    functionHolding(quarantined());
    await undo(recorded());

    const { plan, outcome } = await undo(recorded());

    expect(plan.status).toBe('no-op');
    expect(outcome.status).toBe('skipped');
    expect(lambda.commandCalls(PutFunctionConcurrencyCommand)).toHaveLength(1);
  });

  it('makes no mutating call in dry-run', async () => {
    functionHolding(quarantined());

    const { plan, outcome } = await undo(recorded(), 'dry-run');

    expect(plan.calls).toHaveLength(3);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DRY_RUN_MUTATION' } });
    expect(lambda.commandCalls(AddPermissionCommand)).toHaveLength(0);
  });

  it('sends only calls its permissions allow, and needs each of them', async () => {
    functionHolding(quarantined());
    await undo(recorded());
    functionHolding({ concurrency: 0, statements: [] });
    await undo({ functionArn: FUNCTION_ARN, concurrency: 'none' });

    const needed = new Set(sentCommands(lambda).map((name) => `lambda:${name.replace(/Command$/, '')}`));

    expect([...needed].sort()).toEqual([...inverse.permissions].sort());
  });
});

describe('quarantine-lambda-function undo: an untrusted recorded state', () => {
  const registry = createRegistry([quarantineLambdaFunction]);

  it.each([
    [{ ...recorded(), functionArn: 'arn:aws:lambda:us-east-2:973743533182:function:*' }, '/functionArn'],
    [{ ...recorded(), concurrency: 0 }, '/concurrency'],
    [{ ...recorded(), url: { AuthType: 'OPEN' } }, '/url/AuthType'],
    [{ ...recorded(), url: { ...URL_SETTINGS, Extra: true } }, '/url/Extra'],
    [{ ...recorded(), statements: [{ sid: 'a b', statement: '{}' }] }, '/statements/0/sid'],
    [{ ...recorded(), qualifier: '$LATEST' }, '/qualifier'],
    [{ concurrency: 50 }, '/functionArn'],
  ])('is refused by validateUndoState: %j', (state, pointer) => {
    const problems = registry.validateUndoState('quarantine-lambda-function', state);

    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((problem) => problem.pointer)).toContain(pointer);
  });

  it('refuses a recorded function that is not the recorded target, without any call', async () => {
    const plan = await inverse.plan(
      undoContext({ ...recorded(), functionArn: FUNCTION_ARN.replace(FUNCTION_NAME, 'billing-api') }),
    );

    expect(plan).toMatchObject({ status: 'refused', lookups: [] });
    expect(plan.reason).toContain('is not the recorded target');
    expect(sentCommands(lambda)).toEqual([]);
  });
});
