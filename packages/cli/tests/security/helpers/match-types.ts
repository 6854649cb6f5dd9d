// Matches finding types against type patterns with @riposte/core's compileTypePattern, in a process
// of its own, so that a matcher that backtracks makes the test fail on a timeout instead of blocking
// the test runner. Usage: node --import tsx match-types.ts '<JSON [[pattern, type], ...]>'
// Prints JSON [{ verdict, ms }, ...] on stdout.
import { compileTypePattern } from '../../../../core/src/index.js';

const cases = JSON.parse(process.argv[2] ?? '[]') as [string, string][];
const answers = cases.map(([pattern, type]) => {
  const compiled = compileTypePattern(pattern);
  const started = performance.now();
  const verdict = compiled.test(type);
  return { verdict, ms: performance.now() - started };
});
process.stdout.write(JSON.stringify(answers));
