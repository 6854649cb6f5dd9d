/**
 * Example 01: normalize a GuardDuty finding and ask which playbooks match it, and why.
 * Library only: no AWS call, no action runs. Run: `npx tsx examples/01-match-a-finding/match-a-finding.ts`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createMatcher, normalize, parsePlaybooks } from '@riposte/core';

const here = (name: string): URL => new URL(name, import.meta.url);

export const matchAFinding = async () => {
  // Any supported input: an EventBridge event (as here), a bare finding, or Security Hub ASFF.
  const [finding] = normalize(JSON.parse(await readFile(here('finding.json'), 'utf8')));
  if (!finding) throw new Error('finding.json holds no finding');

  // parsePlaybooks validates the YAML (schema, patterns, tactics) and throws PlaybookValidationError
  // with file:line:column for every problem. Without a registry, action names are not checked.
  const playbooks = parsePlaybooks(await readFile(here('playbooks.yaml'), 'utf8'), 'playbooks.yaml');
  const matcher = createMatcher(playbooks);

  return {
    finding,
    // The playbooks that match, in priority order, with the criteria that held.
    matches: await matcher.match(finding),
    // Every playbook: matched, or the first criterion that failed.
    explanations: await matcher.explain(finding),
  };
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { finding, explanations } = await matchAFinding();
  console.log(`${finding.type.name} (${finding.severityLabel}) in ${finding.accountId} ${finding.region}`);
  console.log(`ATT&CK: ${finding.techniques.map((technique) => technique.id).join(', ')}`);
  for (const explanation of explanations) {
    const why = explanation.matched
      ? explanation.criteria.map((criterion) => `${criterion.criterion}: ${criterion.detail}`).join('; ')
      : `${explanation.failed?.criterion}: ${explanation.failed?.reason}`;
    console.log(`${explanation.matched ? 'matches' : 'no match'}  ${explanation.playbook}  (${why})`);
  }
}
