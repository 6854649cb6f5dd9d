import { zipSync } from 'fflate';

// Zip times are DOS local times from 1980 on: one fixed instant makes the archive depend on its
// contents only, so the same build gives the same function.zip (and CloudFormation sees no change).
const FIXED_TIME = new Date(1980, 0, 1, 0, 0, 0);
// Unix, regular file, rw-r--r--: Lambda's runtime user must be able to read every file.
const UNIX = 3;
const READABLE_FILE = (0o100644 << 16) >>> 0;

/** A deployment package: the files at the archive's root, deflated, byte-for-byte reproducible. */
export const zipFiles = (files: Record<string, Uint8Array>): Uint8Array =>
  zipSync(
    Object.fromEntries(
      Object.entries(files)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, data]) => [
          name,
          [data, { mtime: FIXED_TIME, os: UNIX, attrs: READABLE_FILE, level: 9 }],
        ]),
    ),
  );
