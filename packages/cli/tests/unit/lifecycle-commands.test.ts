import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/io.js';
import { main } from '../../src/main.js';
import { recordingIO } from '../helpers/io.js';

// The end-to-end behaviour of undo and approve (history in dynalite, the local AWS endpoint) is in
// packages/lambda-adapter/tests/e2e/lifecycle.test.ts; these are the command lines a person gets wrong.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

const run = async (argv: string[], env: Record<string, string | undefined> = {}) => {
  const { io, out, err } = recordingIO(ROOT, env);
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('riposte undo, approve and reject', () => {
  it.each([
    [['undo'], /undo needs exactly one finding id/],
    [['undo', 'a', 'b'], /undo needs exactly one finding id/],
    [['approve'], /approve needs exactly one finding id/],
    [['reject', 'a', 'b'], /reject needs exactly one finding id/],
    [['undo', 'abc', '--mode', 'yolo'], /--mode must be dry-run or enforce, not "yolo"/],
    [['approve', 'abc', '--surprise'], /Unknown option '--surprise'/],
  ])('refuses %j as a usage error (exit 2)', async (argv, message) => {
    const { code, err } = await run(argv, { RIPOSTE_HISTORY_TABLE: 'riposte-history' });

    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(message);
  });

  it.each([['undo'], ['approve'], ['reject']])(
    '%s says how to name the history table when none is set',
    async (command) => {
      const { code, err } = await run([command, '7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01']);

      expect(code).toBe(EXIT.usage);
      expect(err).toContain('pass --table <name> or set RIPOSTE_HISTORY_TABLE');
    },
  );

  it('lists the lifecycle commands in the usage text', async () => {
    const { out } = await run(['--help']);

    expect(out).toContain('riposte undo <finding-id>');
    expect(out).toContain('riposte approve <finding-id>');
    expect(out).toContain('riposte reject <finding-id>');
    expect(out).toContain('riposte history');
  });
});
