/**
 * The Lambda bundle's entry (`dist/handler.mjs`). Initialisation runs in the container's init phase:
 * a bad setting or playbook fails the init loudly, and the function refuses to run at all.
 */
import { createHandler } from './handler.js';

const riposte = createHandler();
await riposte.ready;

export const handler = riposte;
