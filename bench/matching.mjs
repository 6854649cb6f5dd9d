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

const summary = (passes, findings) => {
  const times = passes.flatMap((one) => one.times).sort((a, b) => a - b);
  const wall = passes.reduce((total, one) => total + one.wallMs, 0);
  return {
    calls: times.length,
    throughputPerSec: (passes.length * findings) / (wall / 1000),
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    meanMs: times.reduce((total, time) => total + time, 0) / times.length,
  };
};

/**
 * For each size: build both matchers, check they agree on every finding, then alternate passes of
 * Riposte, naive and JSON.parse (order reversed every round) until the size's time budget is spent.
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
    await sameMatches(corpus, riposte, naive);

    const candidates = corpus.map((entry) => riposte.candidates(entry.finding).length);
    const matched = [];
    for (const entry of corpus) matched.push((await riposte.match(entry.finding)).length);
    const withConditions = playbooks.filter((playbook) => playbook.match.conditions).length;

    // Warm-up: one pass each, so neither side pays the JIT in its first timed round.
    await pass(corpus, (entry) => riposte.match(entry.finding));
    await pass(corpus, (entry) => naive.run(entry.finding));
    parsePass(corpus);

    const ours = [];
    const theirs = [];
    const parses = [];
    const ratios = [];
    const parseRatios = [];
    const started = performance.now();
    for (let round = 0; round < 3 || performance.now() - started < budgetMsPerSize; round++) {
      const runOurs = () => pass(corpus, (entry) => riposte.match(entry.finding));
      const runTheirs = () => pass(corpus, (entry) => naive.run(entry.finding));
      let a;
      let b;
      let c;
      if (round % 2 === 0) {
        a = await runOurs();
        b = await runTheirs();
        c = parsePass(corpus);
      } else {
        c = parsePass(corpus);
        b = await runTheirs();
        a = await runOurs();
      }
      ours.push(a);
      theirs.push(b);
      parses.push(c);
      ratios.push(b.wallMs / a.wallMs);
      const oursSum = a.times.reduce((total, time) => total + time, 0);
      const parseSum = c.times.reduce((total, time) => total + time, 0);
      parseRatios.push(oursSum / parseSum);
      if (round >= 200) break;
    }
    const result = {
      size,
      findings: corpus.length,
      rounds: ours.length,
      playbooksWithConditions: withConditions,
      meanCandidates: candidates.reduce((total, count) => total + count, 0) / candidates.length,
      meanMatched: matched.reduce((total, count) => total + count, 0) / matched.length,
      riposte: summary(ours, corpus.length),
      naive: summary(theirs, corpus.length),
      jsonParse: summary(parses, corpus.length),
      speedup: median(ratios),
      speedupMin: Math.min(...ratios),
      matchOverParse: median(parseRatios),
    };
    log(
      `matching ${size} playbooks: riposte ${result.riposte.throughputPerSec.toFixed(0)}/s, naive ${result.naive.throughputPerSec.toFixed(0)}/s, ` +
        `speedup ×${result.speedup.toFixed(1)} (median of ${result.rounds} rounds), match/parse ${result.matchOverParse.toFixed(2)}`,
    );
    results.push(result);
  }
  return { corpus: corpus.length, results };
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results } = await runMatching({ budgetMsPerSize: Number(process.env.BENCH_BUDGET_MS ?? 6000) });
  console.log(JSON.stringify(results, null, 2));
}
