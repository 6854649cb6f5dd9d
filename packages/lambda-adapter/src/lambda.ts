/**
 * The Lambda bundle's entry (`handler.mjs`, written by `riposte build`). Initialisation runs in the
 * container's init phase: a bad setting or playbook fails the init loudly, and the function refuses
 * to run at all.
 */
import { builtinActions, createRegistry } from '@riposte/actions';
import { customActions } from './custom-actions.js';
import { createHandler } from './handler.js';

const riposte = createHandler({ registry: createRegistry([...builtinActions, ...customActions()]) });
await riposte.ready;

export const handler = riposte;
