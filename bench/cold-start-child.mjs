// One cold start, as Lambda runs it: a fresh process imports the bundle (its init phase), then handles
// one event. Usage: node cold-start-child.mjs <handler.mjs> <event.json> <result.json>
// The timings are read from this process's own clock (performance.now() counts from its start).
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile, resultFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));

const importStarted = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const imported = performance.now();
// On the monotonic clock a CPU profile's timestamps use, so bench/profile.mjs can split its samples here.
const importedAtUs = Number(process.hrtime.bigint() / 1000n);
const response = await handler(event, {
  awsRequestId: '0f6e2c1a-0000-4000-8000-000000000001',
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:${process.env.BENCH_ACCOUNT_ID}:function:riposte`,
  getRemainingTimeInMillis: () => 60_000,
});
const returned = performance.now();

const status = readFileSync('/proc/self/status', 'utf8');
const kilobytes = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
writeFileSync(
  resultFile,
  JSON.stringify({
    startupMs: importStarted,
    importMs: imported - importStarted,
    handleMs: returned - imported,
    returnedAtMs: returned,
    importedAtUs,
    peakRssKb: kilobytes('VmHWM'),
    outcome: response.results?.[0]?.outcome,
    verifyMs: response.results?.[0]?.verification?.durationMs,
    code: response.results?.[0]?.code,
  }),
);
