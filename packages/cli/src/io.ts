import { styleText } from 'node:util';
import type { Style } from '@riposte/core';

/** Where a command writes, and how it styles text. Tests pass a recording IO. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  style: Style;
  cwd: string;
  env: Record<string, string | undefined>;
}

/**
 * Exit codes every command keeps (main's EXIT_CODES_HELP says them to people): 0 success; 1 invalid
 * content or a failed run; 2 usage error, or a path the command was given that cannot be read.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Colour only on a TTY, and never when NO_COLOR is set. */
export const processIO = (): CliIO => {
  const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
  return {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    style: colour ? (style, text) => styleText(style, text) : (_style, text) => text,
    cwd: process.cwd(),
    env: process.env,
  };
};

/** A bad command line: reported with usage, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
