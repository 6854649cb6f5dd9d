import type { AwsServices } from '@riposte/actions';
import type { ActionDefinition } from '@riposte/core';

/**
 * The project's custom actions, registered beside the built-ins. Run from the tsc build there are
 * none; `riposte build` replaces this module with one returning its configuration's `actions`.
 */
export const customActions = (): ActionDefinition<object, AwsServices>[] => [];
