import { type PlaybookSource, PlaybookValidationError } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { loadFunctionPlaybooks } from '../../src/index.js';
import { createRecorder, recordingRegistry } from '../helpers/test-actions.js';

const registry = recordingRegistry(createRecorder());
const text = (name: string) =>
  `name: ${name}\nmatch:\n  types: ['**']\nactions:\n  - action: record-response\n`;
const fromBundle = (texts: PlaybookSource[]) => loadFunctionPlaybooks(undefined, registry, async () => texts);

describe('loadFunctionPlaybooks from the bundle', () => {
  it('compiles every embedded file, in order', async () => {
    const playbooks = await fromBundle([
      { file: 'rules/a.yaml', text: text('first') },
      { file: 'rules/b.yaml', text: `${text('second')}---\n${text('third')}` },
    ]);

    expect(playbooks.map((playbook) => [playbook.name, playbook.location.file])).toEqual([
      ['first', 'rules/a.yaml'],
      ['second', 'rules/b.yaml'],
      ['third', 'rules/b.yaml'],
    ]);
  });

  it('refuses a name used in two embedded files, pointing at both', async () => {
    const error = await fromBundle([
      { file: 'rules/a.yaml', text: text('same') },
      { file: 'rules/b.yaml', text: text('same') },
    ]).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PlaybookValidationError);
    expect((error as PlaybookValidationError).issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: 'rules/b.yaml',
          pointer: '/name',
          message: expect.stringContaining('rules/a.yaml:1:'),
        }),
      ]),
    );
  });

  it('reports the problems of every embedded file at once', async () => {
    await expect(
      fromBundle([
        { file: 'rules/a.yaml', text: 'name: a\nmatch: {}\nactions: []\n' },
        { file: 'rules/b.yaml', text: 'name: [unclosed\n' },
      ]),
    ).rejects.toThrow(
      expect.objectContaining({
        issues: expect.arrayContaining([
          expect.objectContaining({ file: 'rules/a.yaml' }),
          expect.objectContaining({ file: 'rules/b.yaml' }),
        ]),
      }),
    );
  });

  it('refuses a bundle without playbooks: the function would never act', async () => {
    await expect(fromBundle([])).rejects.toThrow(/no playbooks found/);
  });
});
