import { formatFindingHeader } from '@riposte/core';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT, UsageError } from '../io.js';
import {
  assertReadable,
  CONFIG_OPTION,
  commandPlaybooks,
  jsonOf,
  loadEngine,
  projectOf,
  readFindings,
} from '../load.js';
import { formatRunSummary } from '../summary.js';

export const matchHelp = `riposte match --finding <file|dir> [--playbooks <dir>]... [--config <file>] [--explain] [--json]
  Which playbooks match each finding, and on which criteria (default: the project's playbooks). --explain also says, for every playbook
  that does not match, the first criterion that failed. A technique or tactic that matched says whether it is
  primary to the finding (what it is about) or related (matched only by a playbook with relatedTechniques: true).
  Ends with a summary: findings and playbook matches.`;

export const runMatch = async (args: string[], io: CliIO): Promise<number> => {
  const { values } = parseCommandArgs(
    args,
    {
      finding: { type: 'string' },
      playbooks: { type: 'string', multiple: true },
      explain: { type: 'boolean' },
      json: { type: 'boolean' },
      ...CONFIG_OPTION,
    },
    false,
  );
  if (!values.finding) throw new UsageError('match needs --finding <file|dir>');
  // Every unreadable path at once (exit 2), as plan does.
  await assertReadable(
    [values.finding, ...(values.playbooks ?? []), ...(values.config ? [values.config] : [])],
    io,
  );
  const project = await projectOf(io, values.config);
  const playbooks = await commandPlaybooks(project, values.playbooks, io);
  const { engine } = loadEngine(project, playbooks, 'dry-run', io);
  const results = [];
  for (const { file, finding } of await readFindings(values.finding, io)) {
    const matches = await engine.match(finding);
    const explanation = values.explain ? await engine.explain(finding) : undefined;
    results.push({
      file,
      findingId: finding.id,
      findingType: finding.type.name,
      matches: matches.map(({ playbook, matched }) => ({ playbook: playbook.name, criteria: matched })),
      ...(explanation ? { explanation } : {}),
    });
    if (values.json) continue;
    io.stdout([io.style('dim', file), ...formatFindingHeader(finding, io.style)].join('\n'));
    if (matches.length === 0) io.stdout(io.style('dim', '  no playbook matches'));
    for (const { playbook, matched } of matches) {
      io.stdout(`  ${io.style('green', 'matches')} ${io.style('bold', playbook.name)}`);
      for (const criterion of matched)
        io.stdout(io.style('dim', `    ${criterion.criterion}: ${criterion.detail}`));
    }
    for (const entry of explanation ?? []) {
      if (entry.matched) continue;
      const why = entry.failed
        ? `${entry.failed.criterion}: ${entry.failed.reason}`
        : entry.excludedBy
          ? `excluded (${'default' in entry.excludedBy ? entry.excludedBy.reason : `exclude[${entry.excludedBy.index}]`})`
          : 'no match';
      io.stdout(io.style('dim', `  no match  ${entry.playbook}: ${why}`));
    }
  }
  if (values.json) io.stdout(jsonOf(results));
  else {
    io.stdout('');
    io.stdout(
      formatRunSummary({
        findings: results.length,
        matches: results.reduce((sum, result) => sum + result.matches.length, 0),
      }),
    );
  }
  return EXIT.ok;
};
