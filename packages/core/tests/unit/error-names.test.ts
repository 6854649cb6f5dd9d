import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExecutionError, PlaybookValidationError, RiposteError } from '../../src/index.js';

const PACKAGES = fileURLToPath(new URL('../../../', import.meta.url));

const sources = (directory: string): string[] =>
  readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(directory, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(directory, entry.name)]
        : [],
  );

/** Every `class X extends <something>Error` that Riposte's packages declare, with the name it declares. */
const errorClasses = (): { file: string; name: string; declared: string | undefined }[] =>
  readdirSync(PACKAGES).flatMap((pkg) =>
    sources(join(PACKAGES, pkg, 'src')).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [...text.matchAll(/^export class (\w+)(?:<[^>]*>)? extends (?!Error\b)\w+Error\b[^{]*\{/gm)].map(
        (match) => {
          const body = text.slice(match.index + match[0].length);
          const declared = /^\s*static override readonly errorName: string = '(\w+)';/.exec(body)?.[1];
          return { file: relative(PACKAGES, file), name: match[1]!, declared };
        },
      );
    }),
  );

describe('error names', () => {
  it('every error class Riposte ships declares its own name, as the minified bundle cannot keep it', () => {
    const classes = errorClasses();

    expect(classes.length).toBeGreaterThan(15);
    expect(classes.filter((entry) => entry.declared !== entry.name)).toEqual([]);
  });

  it('names an error by its declared name, whatever its class is called at run time', () => {
    // What minification does: the class keeps its code, under another name.
    const Renamed = { av: class extends PlaybookValidationError {} }.av;
    const Declared = class extends RiposteError {
      static override readonly errorName = 'DeclaredError';
    };

    expect(new PlaybookValidationError([]).name).toBe('PlaybookValidationError');
    expect(new Declared('REFUSED', 'no').name).toBe('DeclaredError');
    // A subclass without its own errorName (a custom action's) is named after its class.
    expect(new Renamed([]).name).toBe('av');
    expect(new ExecutionError('REFUSED', 'no').toJSON()).toMatchObject({ name: 'ExecutionError' });
  });
});
