import type { AwsServices } from '@riposte/actions';
import type { ActionDefinition } from '@riposte/core';

/**
 * The project's custom actions, registered beside the built-ins. Run from the tsc build there are
 * none; `riposte build` replaces this module with one returning its configuration's `actions`.
 */
// biome-ignore lint/suspicious/noExplicitAny: each action has its own params type.
export const customActions = (): ActionDefinition<any, AwsServices>[] => [];
