import { PlaybookValidationError } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { compilePlaybookTexts } from '../../src/index.js';
import { createRecorder, recordingRegistry } from '../helpers/test-actions.js';

const registry = recordingRegistry(createRecorder());
const text = (name: string) =>
  `name: ${name}\nmatch:\n  types: ['**']\nactions:\n  - action: record-response\n`;

describe('compilePlaybookTexts', () => {
  it('compiles every file, in order', () => {
    const playbooks = compilePlaybookTexts(
      [
        { file: 'rules/a.yaml', text: text('first') },
        { file: 'rules/b.yaml', text: `${text('second')}---\n${text('third')}` },
      ],
      registry,
    );

    expect(playbooks.map((playbook) => [playbook.name, playbook.location.file])).toEqual([
      ['first', 'rules/a.yaml'],
      ['second', 'rules/b.yaml'],
      ['third', 'rules/b.yaml'],
    ]);
  });

  it('refuses a name used in two files, pointing at both', () => {
    const error = (() => {
      try {
        compilePlaybookTexts(
          [
            { file: 'rules/a.yaml', text: text('same') },
            { file: 'rules/b.yaml', text: text('same') },
          ],
          registry,
        );
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(PlaybookValidationError);
    expect((error as PlaybookValidationError).issues).toEqual([
      expect.objectContaining({
        file: 'rules/b.yaml',
        pointer: '/name',
        message: expect.stringContaining('rules/a.yaml:1:'),
      }),
    ]);
  });

  it('reports the problems of every file at once', () => {
    expect(() =>
      compilePlaybookTexts(
        [
          { file: 'rules/a.yaml', text: 'name: a\nmatch: {}\nactions: []\n' },
          { file: 'rules/b.yaml', text: 'name: [unclosed\n' },
        ],
        registry,
      ),
    ).toThrow(
      expect.objectContaining({
        issues: expect.arrayContaining([
          expect.objectContaining({ file: 'rules/a.yaml' }),
          expect.objectContaining({ file: 'rules/b.yaml' }),
        ]),
      }),
    );
  });
});
