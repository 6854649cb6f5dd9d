// Runs the built Lambda bundle as Lambda would: imports it (its init phase), then invokes `handler`
// with each event in turn. Usage: node invoke-bundle.mjs <handler.mjs> <invocations.json> <results.json>
// Results go to a file: the function's own logs own stdout.
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

const [handlerPath, invocationsPath, resultsPath] = process.argv.slice(2);

const describeError = (error) => ({
  name: error?.name,
  code: error?.code,
  message: error instanceof Error ? error.message : String(error),
});

let handler;
try {
  ({ handler } = await import(pathToFileURL(handlerPath).href));
} catch (error) {
  await writeFile(resultsPath, JSON.stringify({ initError: describeError(error) }));
  process.exit(1);
}

const results = [];
for (const { event, context } of JSON.parse(await readFile(invocationsPath, 'utf8'))) {
  const lambdaContext = { ...context, getRemainingTimeInMillis: () => context.remainingMs ?? 60_000 };
  try {
    results.push({ ok: true, response: await handler(event, lambdaContext) });
  } catch (error) {
    results.push({ ok: false, error: describeError(error) });
  }
}
await writeFile(resultsPath, JSON.stringify({ results }));
