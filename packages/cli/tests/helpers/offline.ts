import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';

/**
 * Each test of the file runs offline, unless it points the SDK at the local endpoint itself (no
 * credentials, no metadata service, no developer configuration), in a scratch directory of its own.
 * Returns the directory of the running test.
 */
export const offlineScratch = (prefix: string): (() => string) => {
  let directory = '';
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), prefix));
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);
    vi.stubEnv('AWS_PROFILE', 'riposte-test-no-such-profile');
    vi.stubEnv('AWS_CONFIG_FILE', join(tmpdir(), 'riposte-no-aws-config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(tmpdir(), 'riposte-no-aws-credentials'));
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await rm(directory, { recursive: true, force: true });
  });
  return () => directory;
};
