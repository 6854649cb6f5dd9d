import { parseArgs } from 'node:util';
import { UsageError } from './io.js';

interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  default?: string | boolean | string[];
}

type ValueOf<S extends OptionSpec> = S extends { type: 'string'; multiple: true }
  ? string[]
  : S extends { type: 'string' }
    ? string
    : boolean;

export interface ParsedCommandArgs<O extends Record<string, OptionSpec>> {
  values: { [K in keyof O]?: ValueOf<O[K]> };
  positionals: string[];
}

/** parseArgs, with every mistake turned into a UsageError (exit 2) instead of a crash. */
export const parseCommandArgs = <O extends Record<string, OptionSpec>>(
  args: string[],
  options: O,
  allowPositionals = true,
): ParsedCommandArgs<O> => {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals, strict: true });
    return { values: values as ParsedCommandArgs<O>['values'], positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
};
