import { compileTypePattern, typePatternProblem } from '@riposte/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** The regular expression patterns compiled to before: the reference semantics (it backtracks). */
const referenceRegex = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .split('**')
      .map((part) =>
        part
          .split('*')
          .map((text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^:/]*'),
      )
      .join('.*')}$`,
  );

const matches = (pattern: string, type: string): boolean => compileTypePattern(pattern).test(type);

describe('compileTypePattern', () => {
  it.each([
    [
      'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*',
      'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      true,
    ],
    [
      'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*',
      'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
      true,
    ],
    ['Discovery:S3/MaliciousIPCaller*', 'Discovery:S3/MaliciousIPCaller', true],
    ['Discovery:S3/MaliciousIPCaller*', 'Discovery:S3/MaliciousIPCaller.Custom', true],
    ['*:S3/**', 'Exfiltration:S3/ObjectRead.Unusual', true],
    ['*:S3/**', 'Exfiltration:EC2/S3Thing', false],
    ['Backdoor:*', 'Backdoor:EC2/C&CActivity.B', false],
    ['Backdoor:**', 'Backdoor:EC2/C&CActivity.B!DNS', true],
    ['*', 'Backdoor:EC2/C&CActivity.B', false],
    ['**', 'Backdoor:EC2/C&CActivity.B', true],
    ['Backdoor:EC2/C&CActivity.B', 'Backdoor:EC2/C&CActivity.B', true],
    ['Backdoor:EC2/C&CActivity.B', 'backdoor:EC2/C&CActivity.B', false],
    ['Backdoor:EC2/C&CActivity.B', 'Backdoor:EC2/C&CActivity.B!DNS', false],
    ['*:*/*', 'Recon:EC2/PortProbeUnprotectedPort', true],
    ['*:*/*', 'Recon:EC2/Port/Probe', false],
    ['Recon:EC2/**Port', 'Recon:EC2/PortProbeUnprotectedPort', true],
    ['Recon:EC2/**Port', 'Recon:EC2/PortProbeUnprotectedPorts', false],
  ])('matches %s against %s: %s', (pattern, type, expected) => {
    expect(matches(pattern, type)).toBe(expected);
  });

  it('keeps the literal prefix and exactness the type index relies on', () => {
    expect(compileTypePattern('Discovery:S3/*')).toMatchObject({
      literalPrefix: 'Discovery:S3/',
      exact: false,
    });
    expect(compileTypePattern('Discovery:S3/TorIPCaller')).toMatchObject({
      literalPrefix: 'Discovery:S3/TorIPCaller',
      exact: true,
    });
  });

  it('refuses an invalid pattern', () => {
    expect(() => compileTypePattern('Backdoor:***')).toThrow(TypeError);
    expect(typePatternProblem('Backdoor:EC2/(a+)+')).toContain('may only contain');
  });

  it('gives the verdict of the regular expression it replaces, on any pattern and type', () => {
    const text = (chars: string[], maxLength: number) =>
      fc.array(fc.constantFrom(...chars), { maxLength }).map((list) => list.join(''));
    const pattern = text(['a', 'b', ':', '/', '.', '*', '**'], 8).filter(
      (value) => value.length > 0 && typePatternProblem(value) === undefined,
    );
    const type = text(['a', 'b', ':', '/', '.', '\n'], 12);

    fc.assert(
      fc.property(pattern, type, (source, value) => {
        expect(matches(source, value)).toBe(referenceRegex(source).test(value));
      }),
      { numRuns: 5_000 },
    );
  });

  describe('on hostile types (the regular expression backtracked for seconds)', () => {
    const NASTY = 'Backdoor:EC2/*.*.*.*.*.*Z';
    const typeOf = (length: number, last: string) => {
      const prefix = 'Backdoor:EC2/';
      return `${prefix}${'.'.repeat(length - prefix.length - 1)}${last}`;
    };

    it.each([100, 256])(`matches ${NASTY} against a %i-character type, quickly`, (length) => {
      // Arrange
      const pattern = compileTypePattern(NASTY);
      const miss = typeOf(length, 'Y');
      const hit = typeOf(length, 'Z');

      // Act
      const started = performance.now();
      const verdicts = [pattern.test(miss), pattern.test(hit)];
      const elapsed = performance.now() - started;

      // Assert
      expect(miss).toHaveLength(length);
      expect(verdicts).toEqual([false, true]);
      expect(elapsed).toBeLessThan(200);
    });

    it('matches the nastiest patterns against 256-character types, quickly', () => {
      // Arrange
      const patterns = [
        NASTY,
        `Backdoor:EC2/${'*a'.repeat(40)}*Z`,
        `Backdoor:**${'a**'.repeat(40)}Z`,
        `**a${'*a'.repeat(20)}${'a**'.repeat(20)}Z`,
        `*:*/${'*.'.repeat(60)}*Z`,
      ].map(compileTypePattern);
      const types = ['.', 'a', 'a.', 'aZ'].map((unit) => {
        const body = unit.repeat(256);
        return `Backdoor:EC2/${body}`.slice(0, 255).concat('Y');
      });

      // Act
      const started = performance.now();
      for (const pattern of patterns) for (const type of types) pattern.test(type);
      const elapsed = performance.now() - started;

      // Assert
      expect(types.every((type) => type.length === 256)).toBe(true);
      expect(elapsed).toBeLessThan(200);
    });
  });
});
