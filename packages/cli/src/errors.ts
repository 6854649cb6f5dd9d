import { RiposteError } from '@riposte/core';

/** The codes @riposte/cli throws. */
export type CliErrorCode =
  | 'PROJECT_CONFIG_INVALID'
  | 'BUILD_FAILED'
  | 'PATH_INACCESSIBLE'
  | 'VERSION_UNKNOWN';

/** One path a command could not use, and why, in words (`no such file or directory`). */
export interface InaccessiblePath {
  path: string;
  reason: string;
}

// The file-system errors that say "this path cannot be used", not "something broke": the fix is in
// the command line or on disk. Any other error code stays an unexpected error.
const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many symbolic links (a loop?)',
  ENAMETOOLONG: 'name too long',
  EROFS: 'read-only file system',
};

/** Why a file-system error makes its path unusable, or undefined when it is not that kind of error. */
export const inaccessibleReason = (error: unknown): string | undefined => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? REASONS[code] : undefined;
};

/**
 * A file or directory the command was pointed at cannot be read (or written): missing, not
 * permitted, not a directory. It exits 2, like a usage error: what to fix is the command line or the
 * file system, not the content of a file (invalid content exits 1). Lists every such path at once.
 */
export class PathAccessError extends RiposteError<CliErrorCode> {
  static override readonly errorName: string = 'PathAccessError';

  readonly paths: InaccessiblePath[];

  constructor(paths: InaccessiblePath[], options: { cause?: unknown } = {}) {
    const [only] = paths;
    super(
      'PATH_INACCESSIBLE',
      paths.length === 1 && only
        ? `${only.path}: ${only.reason}`
        : [
            `${paths.length} paths cannot be used:`,
            ...paths.map(({ path, reason }) => `  ${path}: ${reason}`),
          ].join('\n'),
      { details: { paths }, ...options },
    );
    this.paths = paths;
  }
}
