import type { AwsCall, CallRecord } from '@riposte/core';
import { errorCode } from './aws-errors.js';
import type { AwsScope, AwsServices } from './clients.js';
import { type SdkModules, sdk } from './sdk/load.js';

export type CallResult<O> =
  | { ok: true; output: O; record: CallRecord }
  | { ok: false; error: unknown; record: CallRecord };

const requestIdOf = (value: unknown): string | undefined => {
  const metadata = (value as { $metadata?: { requestId?: unknown } } | null | undefined)?.$metadata;
  return typeof metadata?.requestId === 'string' ? metadata.requestId : undefined;
};

/** One AWS call, as an action describes it before sending. `input` is the SDK command input. */
export const awsCall = (service: string, operation: string, input: object, mutating = false): AwsCall => ({
  service,
  operation,
  input: input as Record<string, unknown>,
  mutating,
});

/** One call as reports show it (`call`), and the function that sends exactly that call. */
export interface SdkCall<O = unknown> {
  call: AwsCall;
  send: () => Promise<O>;
  /**
   * Where the call goes and exactly what it asks (`call.input` may show less). A read that says so may
   * be answered from the response's read memo; a mutation that says so clears the reads it may have
   * changed (see read-memo.ts).
   */
  address?: CallAddress;
}

export interface CallAddress {
  scope: AwsScope;
  input: object;
}

/**
 * A mutating call: plan lists `call`, execute runs `send`, so what a dry run shows is what an enforced
 * run does.
 */
export type Mutation<O = unknown> = SdkCall<O>;

/**
 * Sends one call and records it: every AWS call an action makes goes through here, so the report
 * lists each one with its request id, error code and duration. The input is copied at send time.
 * `call.input` must already be safe to show (no credentials, webhook URLs masked).
 */
export const sendCall = async <O>(call: AwsCall, send: () => Promise<O>): Promise<CallResult<O>> => {
  const input = structuredClone(call.input);
  const started = performance.now();
  const finish = (outcome: { requestId?: string; errorCode?: string }): CallRecord => ({
    service: call.service,
    operation: call.operation,
    input,
    mutating: call.mutating,
    ...outcome,
    durationMs: Math.round(performance.now() - started),
  });
  try {
    const output = await send();
    const requestId = requestIdOf(output);
    return { ok: true, output, record: finish(requestId === undefined ? {} : { requestId }) };
  } catch (error) {
    const requestId = requestIdOf(error);
    return {
      ok: false,
      error,
      record: finish({
        ...(requestId === undefined ? {} : { requestId }),
        errorCode: errorCode(error),
      }),
    };
  }
};

// ---------------------------------------------------------------------------------------------
// Typed SDK calls
// ---------------------------------------------------------------------------------------------

/** A service Riposte has a client for: `services.ec2(scope)`, and the commands of `./sdk/ec2.js`. */
export type SdkService = keyof SdkModules;

/** How reports name each service. */
const SERVICE_NAMES = {
  cloudtrail: 'CloudTrail',
  ec2: 'EC2',
  ecs: 'ECS',
  eks: 'EKS',
  guardduty: 'GuardDuty',
  iam: 'IAM',
  lambda: 'Lambda',
  organizations: 'Organizations',
  rds: 'RDS',
  s3: 'S3',
  securityhub: 'SecurityHub',
  sns: 'SNS',
  sts: 'STS',
  wafv2: 'WAFV2',
} as const satisfies Record<SdkService, string>;

/** The operations a module of SDK commands offers: `DescribeInstances` for its `DescribeInstancesCommand`. */
export type OperationOf<M> = {
  [K in keyof M]: K extends `${infer Operation}Command` ? Operation : never;
}[keyof M];

/** The command an operation's class builds: `CommandImpl<Input, Output, ...>` of the SDK. */
type CommandOf<M, Op extends string> = M[`${Op}Command` & keyof M] extends new (
  ...args: never
) => infer Command
  ? Command
  : never;

/** The input of an operation: what its command carries. */
export type InputOf<M, Op extends string> = CommandOf<M, Op> extends { input: infer I } ? I : never;

/** The output of an operation: what the client's `send` resolves to for its command. */
export type OutputOf<M, Op extends string> =
  CommandOf<M, Op> extends {
    resolveMiddleware(...args: never[]): (...args: never[]) => Promise<{ output: infer O }>;
  }
    ? O
    : never;

/** What a call needs of an action's context: the service bag, and the target whose account and region it goes to. */
export interface CallContext {
  services: AwsServices;
  target: AwsScope;
}

export interface CallOptions<M> {
  /** The account and region the call goes to. Default: the target's. */
  scope?: AwsScope;
  /** The input as reports show it, when they must not show all of it (a large body). Default: the input. */
  shown?: object;
  /**
   * Commands of the service besides those Riposte sends (a custom action's): the module they come
   * from, or a function that imports it on first use, e.g. `{ commands: { PutObjectCommand } }`.
   */
  commands?: M | (() => Promise<M>);
}

interface Sendable {
  send(command: unknown): Promise<unknown>;
}

type CommandClass = new (input: unknown) => unknown;

/** `read` and `mutation`: one SDK call, typed by its service and operation. */
export type SdkCallOf = <K extends SdkService, Op extends OperationOf<M>, M = SdkModules[K]>(
  ctx: CallContext,
  service: K,
  operation: Op,
  input: InputOf<M, Op>,
  options?: CallOptions<M>,
) => SdkCall<OutputOf<M, Op>>;

const sdkCall =
  (mutating: boolean): SdkCallOf =>
  (ctx, service, operation, input, options = {}) => {
    const scope = options.scope ?? { accountId: ctx.target.accountId, region: ctx.target.region };
    const { commands } = options;
    return {
      call: awsCall(SERVICE_NAMES[service], operation, options.shown ?? (input as object), mutating),
      address: { scope, input: input as object },
      // The client and the command's module are made and loaded when the call is sent, not before:
      // a plan refused up front, or made offline, creates neither.
      send: async () => {
        const client = (await ctx.services[service](scope)) as unknown as Sendable;
        const module = (
          typeof commands === 'function'
            ? await (commands as () => Promise<unknown>)()
            : (commands ?? (await sdk[service]()))
        ) as Record<string, CommandClass>;
        const Command = module[`${operation}Command`];
        if (Command === undefined) throw new TypeError(`${operation}Command is not a command of ${service}`);
        return (await client.send(new Command(input))) as never;
      },
    };
  };

/**
 * A read-only SDK call in the target's account and region (or `options.scope`), with the client of
 * the service bag for that scope: `read(ctx, 'ec2', 'DescribeInstances', { InstanceIds: [id] })`.
 * Input and output are typed by the operation. Hand it to `session.read` to send and record it.
 */
export const read: SdkCallOf = sdkCall(false);

/**
 * A mutating SDK call, as `read` builds one: `mutation(ctx, 'ec2', 'CreateTags', input)`. Plan lists
 * its `call`; execute sends it with `session.mutate`, which refuses it in dry-run mode.
 */
export const mutation: SdkCallOf = sdkCall(true);
