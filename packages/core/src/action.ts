import type { JSONSchemaType } from 'ajv';
import type { ExecutionError } from './errors.js';
import type { Finding, ResourceKind } from './finding.js';

/** JSON Schema for an action's params (draft-07 subset that ajv strict mode accepts). */
export type JsonSchema = Record<string, unknown>;

/** The params of `P` that a step must give: those whose type does not include `undefined`. */
type RequiredParams<P> = { [K in keyof P]-?: undefined extends P[K] ? never : K }[keyof P];

/**
 * The params schema of an action whose params are `P`, checked by the compiler against `P`: one
 * property schema per param, of that param's type, and `required` naming only params `P` requires.
 *
 * It is ajv's `JSONSchemaType` of `Required<P>`, not of `P`: for `P` itself ajv demands
 * `nullable: true` on every optional param, and ajv then accepts `null` for it, so a playbook's
 * `quarantineProfile: ~` would pass validation and reach the action. Riposte's params are absent or
 * of their type, never null.
 */
export type ParamsSchema<P> = JSONSchemaType<Required<P>> & { required: readonly RequiredParams<P>[] };

/**
 * Where an action sits in a response. Steps are ordered by phase unless a playbook orders them with
 * `after:`: evidence first (snapshot, tag), then containment, then credential revocation, then notify.
 */
export type ActionPhase = 'preserve' | 'contain' | 'revoke' | 'notify';

export const PHASE_ORDER: readonly ActionPhase[] = ['preserve', 'contain', 'revoke', 'notify'];

/** One resource an action will act on, always taken from (or derived from) the finding. */
export interface ActionTarget {
  /** The resource kind in the finding this target comes from. */
  kind: ResourceKind | 'finding';
  /** The resource's identifier as the finding names it (instance id, bucket name, access key id, ...). */
  id: string;
  arn?: string;
  accountId: string;
  region: string;
  /** Human label for reports, e.g. `instance i-0abc (credential source)`. */
  label: string;
}

/** The result of resolving an action's targets from a finding: targets, or why there are none. */
export interface TargetResolution {
  targets: ActionTarget[];
  /** Why nothing applies (e.g. `the finding names no S3 bucket`), when `targets` is empty. */
  reason?: string;
}

/** One AWS API call, as it was or would be made. */
export interface AwsCall {
  /** SDK service name, e.g. `EC2`, `IAM`, `S3`. */
  service: string;
  /** API operation as AWS spells it, e.g. `DisassociateIamInstanceProfile`. */
  operation: string;
  input: Record<string, unknown>;
  mutating: boolean;
}

/** A call that ran: what came back. */
export interface CallRecord extends AwsCall {
  requestId?: string;
  errorCode?: string;
  durationMs: number;
}

/** A read-only lookup planning made, or could not make (no credentials): then it `would look up`. */
export interface Lookup {
  call: AwsCall;
  status: 'done' | 'unavailable' | 'failed';
  /** What the lookup found, or why it could not run. */
  summary: string;
  requestId?: string;
  errorCode?: string;
}

export interface ActionPlan {
  /**
   * `planned`: `calls` would run. `no-op`: nothing to do (already in the desired state), see `reason`.
   * `refused`: the action will not act on this target (root key, service-linked role), see `reason`.
   * `failed`: planning itself failed (AccessDenied on a lookup), see `error`.
   */
  status: 'planned' | 'no-op' | 'refused' | 'failed';
  reason?: string;
  lookups: Lookup[];
  /** The mutating calls execute would make, with their inputs. */
  calls: AwsCall[];
  error?: ExecutionError;
}

export interface ActionOutcome {
  status: 'applied' | 'skipped' | 'failed';
  reason?: string;
  calls: CallRecord[];
  error?: ExecutionError;
  /** Values a later step or a human may need (quarantine group id, snapshot ids, ...). */
  outputs?: Record<string, unknown>;
  /**
   * The state the step changed, as it was before (previous security groups per ENI, the previous
   * public access block, the policy it added...): what the action's inverse reads to restore it.
   * Present whenever a mutating call of the step succeeded, also when a later one failed.
   */
  undo?: UndoState;
}

/** What a mutating step recorded of the state it changed; stored in history, read back by the inverse. */
export type UndoState = Record<string, unknown>;

/** What an inverse gets: the step's recorded target and state, no finding (it may be long archived). */
export interface InverseContext<U = UndoState, S = unknown> {
  findingId: string;
  /** The target the step changed, as it was recorded. */
  target: ActionTarget;
  /** The recorded state, already checked against the inverse's `stateSchema`. */
  state: U;
  services: S;
  mode: EngineMode;
  now: Date;
}

/**
 * How a mutating action is undone: from the state its step recorded, the calls that put the target
 * back. Like the action itself, `plan` is read-only, `execute` re-checks first, reports `skipped` when
 * the target is already as it was, and never reaches beyond the recorded target.
 */
export interface ActionInverse<U = UndoState, S = unknown> {
  /** What undoing restores, in one sentence, for the action reference and the undo plan. */
  summary: string;
  /** JSON Schema of the recorded state: history is read back from a table, so it is checked before use. */
  stateSchema: JsonSchema;
  /** IAM actions the inverse needs; they go to the undo role, never to the function's. */
  permissions: string[];
  grants(): PermissionGrant[];
  plan(context: InverseContext<U, S>): Promise<ActionPlan>;
  execute(context: InverseContext<U, S>, plan: ActionPlan): Promise<ActionOutcome>;
}

/** An action with no safe inverse, and why (a snapshot is kept; a notification cannot be unsent). */
export interface NoInverse {
  none: string;
}

export const hasInverse = <S>(
  undo: ActionInverse<UndoState, S> | NoInverse | undefined,
): undo is ActionInverse<UndoState, S> => undo !== undefined && !('none' in undo);

/** Defines an inverse with its recorded state typed `U`; returns it as the action definition holds it. */
export const defineInverse = <U, S = unknown>(inverse: ActionInverse<U, S>): ActionInverse<UndoState, S> =>
  inverse as unknown as ActionInverse<UndoState, S>;

export type EngineMode = 'dry-run' | 'enforce';

/**
 * What the steps of one response share, from planning to the end of execution: the engine makes one
 * per plan and hands it to every step's `plan` and `execute`. It is never part of a plan or report.
 */
export interface ResponseState {
  /** Values actions keep for the rest of the response (the AWS read memo of `@riposte/actions`), by their own key. */
  readonly values: Map<unknown, unknown>;
  /**
   * Every mutating call the finished steps reported, in the order the steps finished: an action that
   * keeps reads learns from it what another step (a custom action's raw SDK call too) may have changed.
   */
  readonly mutations: readonly CallRecord[];
}

/** What every action call gets. `S` is the service bag the engine was built with (AWS clients). */
export interface ActionContext<P = Record<string, unknown>, S = unknown> {
  finding: Finding;
  target: ActionTarget;
  params: P;
  services: S;
  mode: EngineMode;
  /** The moment of the response; actions use it rather than reading the clock. */
  now: Date;
  playbook: string;
  stepId: string;
  /** Outcomes of the steps this one ran after, by step id (e.g. notify summarises them). */
  previous: ReadonlyMap<string, StepSummary>;
  /** The playbook's blast-radius limits: an action that reaches beyond its target counts against them. */
  limits: { maxTargets: number };
  /** Shared by every step of the response; absent when an action is called on its own (tests, tools). */
  shared?: ResponseState;
}

export interface StepSummary {
  action: string;
  target: string;
  status: string;
  reason?: string;
  /** The phase of the step's action (feedback to Security Hub tells containment from the rest). */
  phase?: ActionPhase;
}

/**
 * Where some of an action's IAM actions may act, as narrowly as IAM allows: resource ARN patterns and
 * condition keys. In resources, `{partition}`, `{account}` and `{region}` stand for those of the
 * account the policy is deployed in (the template writes them with `Fn::Sub`), and `{notification-topic}`
 * (a whole resource) for the topic the deployment configures for notifications. `*` is only for IAM
 * actions that IAM documents as supporting no resource-level permissions.
 */
export interface PermissionGrant {
  /** IAM actions as IAM spells them; each is one of the action's `permissions`. */
  actions: string[];
  resources: string[];
  /** An IAM `Condition` block, e.g. `{ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } }`. */
  conditions?: Record<string, Record<string, string | string[]>>;
}

/**
 * An action: a typed object the registry holds. `plan` is read-only; `execute` is the only code that
 * mutates AWS, re-checks the state first and reports `skipped` when there is nothing left to do.
 */
export interface ActionDefinition<P = Record<string, unknown>, S = unknown> {
  /** kebab-case verb-noun; equals the file name and the YAML name. */
  name: string;
  summary: string;
  phase: ActionPhase;
  paramsSchema: JsonSchema;
  /** IAM actions as IAM spells them, e.g. `ec2:DisassociateIamInstanceProfile`. */
  permissions: string[];
  /**
   * The resources and conditions each permission needs for a step with these params; together they
   * cover `permissions` exactly (a param may add some, such as `iam:PassRole` for a quarantine profile).
   */
  grants(params: P): PermissionGrant[];
  /** Resource kinds of the finding this action acts on. */
  resourceKinds: (ResourceKind | 'finding')[];
  /** A YAML snippet of the action used in a playbook step. */
  example: string;
  /** When executing again does nothing: the idempotency rule, in one sentence. */
  idempotency: string;
  /** What a dry run of it reports, for the action reference (default: the lookups and calls plan() lists). */
  dryRun?: string;
  /**
   * Params worth documenting besides none at all, each valid under `paramsSchema`: the reference shows
   * the grants they add, and the meta-tests check that `grants` of `{}` and of these cover `permissions`.
   */
  paramExamples?: P[];
  /** Pure: the targets this action would act on for this finding. */
  targets(finding: Finding, params: P): TargetResolution;
  plan(context: ActionContext<P, S>): Promise<ActionPlan>;
  execute(context: ActionContext<P, S>, plan: ActionPlan): Promise<ActionOutcome>;
  /**
   * How a step of this action is undone, or why it cannot be. Every built-in declares one; a custom
   * action without it is reported as "declares no inverse" by `riposte undo`, and left as it is.
   */
  undo?: ActionInverse<UndoState, S> | NoInverse;
}

/**
 * The actions an engine can run, by name. `@riposte/actions` provides the implementation with the
 * built-ins registered; user code registers its own actions under the same contract.
 */
export interface ActionRegistry<S = unknown> {
  get(name: string): ActionDefinition<Record<string, unknown>, S> | undefined;
  list(): ActionDefinition<Record<string, unknown>, S>[];
  /**
   * Checks params against the action's schema (compiled once). Returns problems as JSON pointers
   * relative to the params object, empty when valid.
   */
  validateParams(name: string, params: unknown): { pointer: string; message: string }[];
  /**
   * Checks a recorded undo state against the action's inverse `stateSchema` (compiled once). Problems
   * as for params; one problem when the action has no inverse.
   */
  validateUndoState(name: string, state: unknown): { pointer: string; message: string }[];
}

/** What `defineAction` takes: an action whose params schema is typed by its params. */
export interface ActionSpec<P, S = unknown> extends Omit<ActionDefinition<P, S>, 'paramsSchema'> {
  paramsSchema: ParamsSchema<P>;
}

/**
 * Defines an action with one params type: `paramsSchema` must describe `P` exactly (see
 * `ParamsSchema`), so the type the action's code reads and the schema the registry validates against
 * cannot drift apart. Returns the action as the registry holds it.
 *
 * ```ts
 * export const archiveFinding = defineAction<{ bucket: string; prefix?: string }, AwsServices>({
 *   name: 'archive-finding',
 *   paramsSchema: {
 *     type: 'object',
 *     additionalProperties: false,
 *     properties: { bucket: { type: 'string' }, prefix: { type: 'string' } },
 *     required: ['bucket'],
 *   },
 *   ...
 * });
 * ```
 */
export const defineAction = <P, S = unknown>(spec: ActionSpec<P, S>): ActionDefinition<P, S> => spec;
