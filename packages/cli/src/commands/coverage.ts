import { writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { Style } from '@riposte/core';
import { type Coverage, computeCoverage, navigatorLayer } from '@riposte/core/catalog';
import { parseCommandArgs } from '../args.js';
import { type CliIO, EXIT } from '../io.js';
import { CONFIG_OPTION, commandPlaybooks, projectOf } from '../load.js';

export const coverageHelp = `riposte coverage [--playbooks <file|dir>]... [--config <file>] [--navigator <out.json>] [--json]
  What the playbooks (default: the project's) handle, measured against the catalog of GuardDuty finding types (active types
  only) and the CTID ATT&CK mapping: handled and unhandled types by resource type and severity,
  techniques and tactics covered, and per playbook the types it reaches (and patterns that reach
  none). Restrictions such as severity or resources are listed, not guessed.
  --navigator writes an ATT&CK Navigator layer scoring each technique 0-100 by coverage.
  --json prints the whole coverage report.`;

const percent = (part: number, whole: number): string =>
  whole === 0 ? '-' : `${Math.round((100 * part) / whole)}%`;

const pad = (text: string, width: number): string => text.padEnd(width);

const formatCoverage = (coverage: Coverage, style: Style): string[] => {
  const { summary, catalog } = coverage;
  const lines = [
    style(
      'bold',
      `Finding types handled: ${summary.coveredTypes} of ${summary.types} active GuardDuty types ` +
        `(${percent(summary.coveredTypes, summary.types)}; catalog ${catalog.total} types, ${catalog.deprecated} retired)`,
    ),
    '',
    style('bold', 'By resource type and severity'),
  ];
  for (const group of coverage.groups) {
    const count = `${group.covered}/${group.total}`;
    const colour = group.covered === group.total ? 'green' : group.covered === 0 ? 'red' : 'yellow';
    lines.push(`  ${pad(group.resourceType, 40)} ${pad(group.severity, 10)} ${style(colour, pad(count, 7))}`);
  }

  const uncovered = coverage.types.filter((type) => type.handledBy.length === 0);
  lines.push('', style('bold', `Not handled (${uncovered.length})`));
  for (const type of uncovered) lines.push(`  ${style('dim', '-')} ${type.type}`);

  lines.push('', style('bold', 'Handled'));
  for (const type of coverage.types.filter((entry) => entry.handledBy.length > 0)) {
    const handlers = type.handledBy.map((handler) => {
      const how = handler.via === 'any' ? 'any type' : `${handler.via} ${handler.by}`;
      const restricted = handler.restrictedBy.length > 0 ? `; if ${handler.restrictedBy.join(', ')}` : '';
      return `${handler.playbook}${handler.fallback ? ' (fallback)' : ''} (${how}${restricted})`;
    });
    lines.push(`  ${style('green', '+')} ${type.type}: ${handlers.join('; ')}`);
  }

  lines.push(
    '',
    style(
      'bold',
      `ATT&CK techniques covered: ${summary.coveredTechniques} of ${summary.techniques} (CTID GuardDuty mapping)`,
    ),
  );
  for (const technique of coverage.techniques) {
    const colour = technique.score === 100 ? 'green' : technique.score === 0 ? 'red' : 'yellow';
    const detail =
      technique.findingTypes.length > 0
        ? `${technique.coveredTypes.length}/${technique.findingTypes.length} types`
        : 'no active type';
    const named = technique.namedBy.length > 0 ? `, named by ${technique.namedBy.join(', ')}` : '';
    lines.push(
      `  ${pad(technique.id, 10)} ${pad(technique.name, 45)} ${style(colour, pad(`${technique.score}`, 4))} ${detail}${named}`,
    );
  }

  lines.push('', style('bold', `ATT&CK tactics covered: ${summary.coveredTactics} of ${summary.tactics}`));
  for (const tactic of coverage.tactics) {
    const mark = tactic.covered ? style('green', '+') : style('red', '-');
    const named = tactic.namedBy.length > 0 ? `, named by ${tactic.namedBy.join(', ')}` : '';
    lines.push(
      `  ${mark} ${pad(tactic.id, 7)} ${pad(tactic.name, 21)} techniques ${tactic.coveredTechniques}/${tactic.techniques}, ` +
        `types ${tactic.coveredTypes}/${tactic.findingTypes}${named}`,
    );
  }

  lines.push('', style('bold', 'Playbooks'));
  for (const playbook of coverage.playbooks) {
    const reach = [
      ...(playbook.patterns.length > 0 ? [`${playbook.patterns.length} type pattern(s)`] : []),
      ...(playbook.techniques.length > 0 ? [`techniques ${playbook.techniques.join(', ')}`] : []),
      ...(playbook.tactics.length > 0 ? [`tactics ${playbook.tactics.join(', ')}`] : []),
    ].join(', ');
    const flags = [...(playbook.fallback ? ['fallback'] : []), ...(playbook.enabled ? [] : ['disabled'])];
    lines.push(
      `  ${pad(playbook.name, 40)} ${pad(`${playbook.types.length} types`, 10)} ${reach}${flags.length > 0 ? ` [${flags.join(', ')}]` : ''}`,
    );
    for (const pattern of playbook.unmatchedPatterns) {
      lines.push(`    ${style('yellow', '!')} pattern ${pattern} matches no active GuardDuty finding type`);
    }
  }
  return lines;
};

export const runCoverage = async (args: string[], io: CliIO): Promise<number> => {
  const { values } = parseCommandArgs(
    args,
    {
      playbooks: { type: 'string', multiple: true },
      navigator: { type: 'string' },
      json: { type: 'boolean' },
      ...CONFIG_OPTION,
    },
    false,
  );
  const project = await projectOf(io, values.config);
  const playbooks = await commandPlaybooks(project, values.playbooks, io);
  const coverage = computeCoverage(playbooks);
  if (values.navigator) {
    const out = resolve(io.cwd, values.navigator);
    await writeFile(out, `${JSON.stringify(navigatorLayer(coverage), null, 2)}\n`);
    if (!values.json) io.stderr(`wrote ATT&CK Navigator layer to ${relative(io.cwd, out) || out}`);
  }
  io.stdout(values.json ? JSON.stringify(coverage, null, 2) : formatCoverage(coverage, io.style).join('\n'));
  return EXIT.ok;
};
