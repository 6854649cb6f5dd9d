import {
  type ActionDefinition,
  type ActionRegistry,
  EngineConfigurationError,
  hasInverse,
  PHASE_ORDER,
  pointerSegment,
  RESOURCE_KINDS,
  schemaProblems,
} from '@riposte/core';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { builtinActions } from './builtin.js';
import type { AwsServices } from './clients.js';
import { compileSchema } from './schema-compiler.js';

/** A registry that also accepts new actions (custom ones, under the same contract as the built-ins). */
export interface MutableActionRegistry<S = AwsServices> extends ActionRegistry<S> {
  /**
   * Adds an action, whatever its params type (the compiled schema is what checks params); throws
   * `EngineConfigurationError` when it breaks the contract.
   */
  register(action: ActionDefinition<object, S>): void;
}

const KEBAB_CASE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** `service:Action`, as IAM spells it (`ec2:DisassociateIamInstanceProfile`). */
const IAM_ACTION = /^[a-z0-9-]+:[A-Za-z0-9]+$/;

/** A param's own wording: the pointer then names the param itself, not only its parent object. */
const PARAM_WORDING: Readonly<Record<string, string>> = {
  required: 'is required',
  additionalProperties: 'is not a known param',
  propertyNames: 'is not an allowed name',
};

/** A recorded undo state's own wording: it is data Riposte wrote, not something a person typed. */
const UNDO_STATE_WORDING: Readonly<Record<string, string>> = {
  required: 'is missing from the recorded state',
  additionalProperties: 'is not a field of the recorded state',
  propertyNames: 'is not an allowed name',
};

const problemsOf = (
  errors: readonly ErrorObject[],
  wording: Readonly<Record<string, string>> = PARAM_WORDING,
): { pointer: string; message: string }[] =>
  schemaProblems(errors, (error) => wording[error.keyword]).map(({ pointer, key, message }) => ({
    pointer: key === undefined ? pointer : `${pointer}/${pointerSegment(key)}`,
    message,
  }));

const BUILT_IN: ReadonlySet<ActionDefinition<object, AwsServices>> = new Set(builtinActions);

/**
 * An action as the engine runs it: with the params of a playbook step, which its compiled schema has
 * checked by then. Whatever params type the action was written with, this is the one it is handed.
 */
type Registered = ActionDefinition<Record<string, unknown>, AwsServices>;

/**
 * The action registry, with the built-ins registered by default. Every action is checked when it is
 * registered, so a broken action fails at load, not at 3 a.m.: a kebab-case unique name, a phase, resource
 * kinds, IAM permissions and their grants, and a params schema that compiles under ajv strict mode
 * (compiled once, here).
 */
export const createRegistry = (
  actions: ActionDefinition<object, AwsServices>[] = builtinActions,
): MutableActionRegistry => {
  const compile = (action: ActionDefinition<object, AwsServices>, schema: object): ValidateFunction =>
    compileSchema(schema as Record<string, unknown>, { trusted: BUILT_IN.has(action) });
  const entries = new Map<
    string,
    { action: Registered; validate: ValidateFunction; validateUndo: ValidateFunction | undefined }
  >();

  const register: MutableActionRegistry['register'] = (action) => {
    const fail = (problem: string, details: Record<string, unknown> = {}): never => {
      throw new EngineConfigurationError(`action "${action.name}": ${problem}`, {
        action: action.name,
        ...details,
      });
    };
    if (typeof action.name !== 'string' || !KEBAB_CASE.test(action.name)) fail('the name must be kebab-case');
    if (entries.has(action.name)) fail('an action with this name is already registered');
    if (!PHASE_ORDER.includes(action.phase)) fail(`unknown phase "${action.phase}"`, { phases: PHASE_ORDER });
    if (!Array.isArray(action.permissions) || action.permissions.length === 0)
      fail('it declares no IAM permissions');
    const malformed = action.permissions.filter((permission) => !IAM_ACTION.test(permission));
    if (malformed.length > 0)
      fail('permissions must be IAM actions like ec2:DescribeInstances', { malformed });
    // The deployed role is derived from grants(params): an action written in plain JavaScript
    // without it would otherwise fail only when the template is built.
    if (typeof action.grants !== 'function')
      fail('it declares no grants(params): the resources its IAM permissions apply to');
    const kinds: readonly string[] = [...RESOURCE_KINDS, 'finding'];
    if (action.resourceKinds.length === 0 || action.resourceKinds.some((kind) => !kinds.includes(kind))) {
      fail('resourceKinds must name known resource kinds', { resourceKinds: action.resourceKinds });
    }
    if (action.paramsSchema.type !== 'object') fail('the params schema must have type "object"');
    let validate: ValidateFunction | undefined;
    try {
      validate = compile(action, action.paramsSchema);
    } catch (error) {
      throw new EngineConfigurationError(
        `action "${action.name}": the params schema does not compile: ${String(error)}`,
        {
          action: action.name,
        },
      );
    }
    let validateUndo: ValidateFunction | undefined;
    if (hasInverse(action.undo)) {
      const inverse = action.undo;
      if (!Array.isArray(inverse.permissions) || inverse.permissions.some((p) => !IAM_ACTION.test(p)))
        fail('the inverse must declare IAM permissions like ec2:ModifyNetworkInterfaceAttribute');
      if (typeof inverse.grants !== 'function') fail('the inverse declares no grants()');
      try {
        validateUndo = compile(action, inverse.stateSchema);
      } catch (error) {
        fail(`the inverse's state schema does not compile: ${String(error)}`);
      }
    }
    entries.set(action.name, { action: action as Registered, validate, validateUndo });
  };

  for (const action of actions) register(action);

  return {
    register,
    get: (name) => entries.get(name)?.action,
    list: () => [...entries.values()].map((entry) => entry.action),
    validateParams: (name, params) => {
      const entry = entries.get(name);
      if (!entry) return [{ pointer: '', message: `unknown action "${name}"` }];
      if (entry.validate(params ?? {})) return [];
      return problemsOf(entry.validate.errors ?? []);
    },
    validateUndoState: (name, state) => {
      const validate = entries.get(name)?.validateUndo;
      if (!validate) return [{ pointer: '', message: `action "${name}" has no inverse` }];
      if (validate(state)) return [];
      return problemsOf(validate.errors ?? [], UNDO_STATE_WORDING);
    },
  };
};
