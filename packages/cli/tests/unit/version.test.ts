import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliVersion } from '../../src/version.js';

const PACKAGE = new URL('../../', import.meta.url);
const readJson = async (path: string) => JSON.parse(await readFile(new URL(path, PACKAGE), 'utf8'));

describe('cliVersion', () => {
  let directory = '';
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'riposte-version-'));
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  /** The URL a module would have in `<directory>/dist/`, as the built CLI's version.js has. */
  const builtModule = async (): Promise<URL> => {
    await mkdir(join(directory, 'dist'));
    return pathToFileURL(join(directory, 'dist', 'version.js'));
  };

  it("reads this package's version from its own module in src/", async () => {
    const { version } = await readJson('package.json');

    await expect(cliVersion()).resolves.toBe(version);
  });

  it('reads it one level up from dist/, where the built CLI runs (bin: dist/bin.js, tsc rootDir src, outDir dist)', async () => {
    const { bin } = await readJson('package.json');
    const { compilerOptions } = await readJson('tsconfig.json');
    await writeFile(join(directory, 'package.json'), '{"name": "@riposte/cli", "version": "9.8.7"}');

    const version = await cliVersion(await builtModule());

    expect(bin).toEqual({ riposte: 'dist/bin.js' });
    expect(compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(version).toBe('9.8.7');
  });

  it.each([
    ['is missing', undefined, 'cannot be read as JSON'],
    ['is not JSON', '{"name": "@riposte/cli", ', 'cannot be read as JSON'],
    [
      'is another package',
      '{"name": "@riposte/core", "version": "1.0.0"}',
      'is not a package.json of @riposte/cli with a version',
    ],
    [
      'names @riposte/cli without a version',
      '{"name": "@riposte/cli"}',
      'is not a package.json of @riposte/cli with a version',
    ],
  ])('is VERSION_UNKNOWN, naming the file, when the package.json %s', async (_, manifest, message) => {
    if (manifest !== undefined) await writeFile(join(directory, 'package.json'), manifest);

    const failure = cliVersion(await builtModule());

    await expect(failure).rejects.toMatchObject({
      code: 'VERSION_UNKNOWN',
      message: `${join(directory, 'package.json')} ${message}`,
    });
  });
});
