// Benchmark 1: matching. Riposte's matcher (type index, precompiled checks, json-rules-engine only for
// playbooks with conditions) against the naive approach (one json-rules-engine Engine holding one rule
// per playbook, run per finding), and against JSON.parse of the finding's event.
// Usage alone: node bench/matching.mjs
import { core, log, median, percentile, requireFrom } from './lib/common.mjs';
import { loadCorpus } from './lib/corpus.mjs';
import { addNaiveOperators, corpusContext, generatePlaybooks, naiveRule } from './lib/playbooks.mjs';

export const SIZES = [10, 100, 1000, 5000];

const { Engine } = requireFrom('core')('json-rules-engine');

/** Default exclusions off: the naive rules have none, so both sides judge the same criteria. */
const NO_DEFAULTS = { defaultExclusions: { samples: false, archived: false, exemptTag: null } };

const sameMatches = async (corpus, riposte, naive) => {
  for (const { finding, file } of corpus) {
    const ours = (await riposte.match(finding)).map((match) => match.playbook.name).sort();
    const theirs = (await naive.run(finding)).results.map((result) => result.name).sort();
    if (ours.join() !== theirs.join()) {
      throw new Error(`matchers disagree on ${file}: riposte [${ours}] vs naive [${theirs}]`);
    }
  }
};

/** Runs `one` on every corpus entry, timing each call. Returns per-call times and the pass's wall time. */
const pass = async (corpus, one) => {
  const times = new Array(corpus.length);
  const started = performance.now();
  for (let index = 0; index < corpus.length; index++) {
    const before = performance.now();
    await one(corpus[index]);
    times[index] = performance.now() - before;
  }
  return { times, wallMs: performance.now() - started };
};

/** JSON.parse is synchronous: awaiting it would charge it a microtask the parse itself does not cost. */
const parsePass = (corpus) => {
  const times = new Array(corpus.length);
  const started = performance.now();
  let keep = 0;
  for (let index = 0; index < corpus.length; index++) {
    const before = performance.now();
    keep += JSON.parse(corpus[index].text) === null ? 0 : 1;
    times[index] = performance.now() - before;
  }
  if (keep !== corpus.length) throw new Error('unreachable: a corpus entry parsed to null');
  return { times, wallMs: performance.now() - started };
};

/** The findings the naive side runs: all of them while it is fast enough, an even spread beyond. */
const naiveSample = (corpus, size) => {
  const step = size >= 5000 ? 8 : size >= 1000 ? 2 : 1;
  return corpus.filter((_, index) => index % step === 0);
};

/** Repeats corpus passes until at least `minMs` have gone by, so one round is not a handful of samples. */
const passFor = async (minMs, run) => {
  const passes = [];
  const started = performance.now();
  do passes.push(await run());
  while (performance.now() - started < minMs);
  return {
    times: passes.flatMap((one) => one.times),
    wallMs: passes.reduce((total, one) => total + one.wallMs, 0),
    count: passes.reduce((total, one) => total + one.times.length, 0),
  };
};

const sum = (values) => values.reduce((total, value) => total + value, 0);

/**
 * For each size: build both matchers and check they agree on every finding the naive side runs. Then
 * two alternating comparisons, the order flipped every round: Riposte against naive (throughput on the
 * same findings), and Riposte against JSON.parse of each finding's event (apart, so the naive side's
 * garbage is not collected on Riposte's clock).
 */
export const runMatching = async ({ budgetMsPerSize = 12_000, sizes = SIZES } = {}) => {
  const { createMatcher, TACTICS } = await core();
  const corpus = await loadCorpus();
  const context = corpusContext(
    corpus.map((entry) => entry.finding),
    TACTICS,
  );
  const results = [];
  for (const size of sizes) {
    const playbooks = generatePlaybooks(size, context);
    const riposte = createMatcher(playbooks, NO_DEFAULTS);
    const naive = new Engine([], { allowUndefinedFacts: true });
    addNaiveOperators(naive);
    for (const playbook of playbooks) naive.addRule(naiveRule(playbook));
    const sample = naiveSample(corpus, size);
    await sameMatches(sample, riposte, naive);

    const candidates = corpus.map((entry) => riposte.candidates(entry.finding).length);
    const matched = [];
    for (const entry of corpus) matched.push((await riposte.match(entry.finding)).length);

    const runOurs = (entries) => pass(entries, (entry) => riposte.match(entry.finding));
    const runTheirs = () => pass(sample, (entry) => naive.run(entry.finding));
    // Warm-up: neither side pays the JIT in its first timed round.
    await passFor(200, () => runOurs(corpus));
    await runTheirs();
    await passFor(100, async () => parsePass(corpus));

    const vsNaive = { ours: [], theirs: [], ratios: [] };
    let started = performance.now();
    for (let round = 0; round < 3 || performance.now() - started < budgetMsPerSize * 0.6; round++) {
      const ours = () => passFor(50, () => runOurs(sample));
      const [a, b] = round % 2 === 0 ? [await ours(), await runTheirs()] : [null, await runTheirs()];
      const mine = a ?? (await ours());
      vsNaive.ours.push(mine);
      vsNaive.theirs.push(b);
      vsNaive.ratios.push(b.wallMs / b.times.length / (mine.wallMs / mine.count));
    }

    const vsParse = { ours: [], parses: [], ratios: [] };
    started = performance.now();
    for (let round = 0; round < 5 || performance.now() - started < budgetMsPerSize * 0.4; round++) {
      const ours = () => passFor(20, () => runOurs(corpus));
      const parse = () => passFor(20, async () => parsePass(corpus));
      const [a, b] = round % 2 === 0 ? [await ours(), await parse()] : [null, await parse()];
      const mine = a ?? (await ours());
      vsParse.ours.push(mine);
      vsParse.parses.push(b);
      vsParse.ratios.push(sum(mine.times) / mine.count / (sum(b.times) / b.count));
      if (round >= 400) break;
    }

    const stats = (passes) => {
      const times = passes.flatMap((one) => one.times).sort((x, y) => x - y);
      const count = passes.reduce((total, one) => total + (one.count ?? one.times.length), 0);
      return {
        calls: count,
        throughputPerSec: count / (sum(passes.map((one) => one.wallMs)) / 1000),
        p50Ms: percentile(times, 50),
        p99Ms: percentile(times, 99),
        meanMs: sum(times) / times.length,
      };
    };
    const result = {
      size,
      findings: corpus.length,
      naiveFindings: sample.length,
      roundsVsNaive: vsNaive.ratios.length,
      roundsVsParse: vsParse.ratios.length,
      playbooksWithConditions: playbooks.filter((playbook) => playbook.match.conditions).length,
      meanCandidates: sum(candidates) / candidates.length,
      meanMatched: sum(matched) / matched.length,
      riposte: stats(vsParse.ours),
      naive: stats(vsNaive.theirs),
      jsonParse: stats(vsParse.parses),
      speedup: median(vsNaive.ratios),
      speedupMin: Math.min(...vsNaive.ratios),
      matchOverParse: median(vsParse.ratios),
      matchOverParseMax: Math.max(...vsParse.ratios),
    };
    log(
      `matching ${size} playbooks: riposte ${result.riposte.throughputPerSec.toFixed(0)}/s, naive ${result.naive.throughputPerSec.toFixed(1)}/s, ` +
        `speedup ×${result.speedup.toFixed(1)} (median of ${result.roundsVsNaive} rounds), ` +
        `match/JSON.parse ${result.matchOverParse.toFixed(2)} (median of ${result.roundsVsParse} rounds)`,
    );
    results.push(result);
  }
  return { corpus: corpus.length, results };
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results } = await runMatching({ budgetMsPerSize: Number(process.env.BENCH_BUDGET_MS ?? 6000) });
  console.log(JSON.stringify(results, null, 2));
}
