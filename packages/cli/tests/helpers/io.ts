import type { CliIO } from '../../src/io.js';

/** A CliIO that records what a command prints, uncoloured, with an empty environment unless given one. */
export const recordingIO = (cwd: string, env: Record<string, string | undefined> = {}) => {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
    style: (_style, text) => text,
    cwd,
    env,
  };
  return { io, out, err };
};
