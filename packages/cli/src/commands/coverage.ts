import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { CaseValidationError, FindingFormatError, loadCases, normalize, type Style } from '@riposte/core';
import { type Coverage, computeCoverage, navigatorLayer } from '@riposte/core/catalog';
import { glob } from 'tinyglobby';
import { parseCommandArgs } from '../args.js';
import type { Project } from '../config/load.js';
import { resolveSources } from '../config/playbooks.js';
import { type CliIO, EXIT } from '../io.js';
import { CONFIG_OPTION, commandPlaybooks, projectOf } from '../load.js';

export const coverageHelp = `riposte coverage [--playbooks <file|dir>]... [--fixtures <file|dir>]... [--config <file>] [--navigator <out.json>] [--json]
  What the playbooks (default: the project's) handle, measured against the catalog of GuardDuty finding types (active types
  only) and the CTID ATT&CK mapping: handled and unhandled types by resource type and severity,
  techniques and tactics covered, and per playbook the types it reaches (and patterns that reach
  none). Restrictions such as severity or resources are listed, not guessed.
  A handled type is contained when a playbook that handles it has a step of phase contain or revoke
  (and is not pinned to dry-run), notify-only otherwise.
  Techniques and tactics are those primary to a type (its threat purpose's, or its dominant tactic's)
  unless a playbook says relatedTechniques: true; a technique reached only through types the mapping
  relates it to is listed as related, and scores nothing.
  A type has a fixture when a real-shaped (non-sample) finding of it is in the playbooks' cases
  (*.cases.yaml beside them) or in the --fixtures findings (JSON files, directories searched recursively).
  --navigator writes an ATT&CK Navigator layer scoring each technique 0-100 by coverage, coloured
  green where a playbook contains and blue where playbooks only notify.
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
    `  contained: ${summary.containedTypes} (${percent(summary.containedTypes, summary.types)}; a playbook contains or revokes)`,
    `  notify only: ${summary.notifyOnlyTypes} (${percent(summary.notifyOnlyTypes, summary.types)}; playbooks preserve evidence and tell people, nothing more)`,
    `Finding types with a real-shaped fixture: ${summary.typesWithFixture} of ${summary.types}`,
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

  const handled = (
    response: 'contain' | 'notify-only',
    title: string,
    mark: string,
    colour: 'green' | 'cyan',
  ) => {
    const types = coverage.types.filter((entry) => entry.response === response);
    lines.push('', style('bold', `${title} (${types.length})`));
    for (const type of types) {
      const handlers = type.handledBy.map((handler) => {
        const how =
          handler.via === 'any'
            ? 'any type'
            : `${handler.via} ${handler.by}${handler.relation ? `, ${handler.relation}` : ''}`;
        const restricted = handler.restrictedBy.length > 0 ? `; if ${handler.restrictedBy.join(', ')}` : '';
        const flags = [
          ...(handler.fallback ? ['fallback'] : []),
          ...(response === 'contain' && handler.response === 'notify-only' ? ['notify only'] : []),
        ];
        return `${handler.playbook}${flags.map((flag) => ` (${flag})`).join('')} (${how}${restricted})`;
      });
      lines.push(`  ${style(colour, mark)} ${type.type}: ${handlers.join('; ')}`);
    }
  };
  handled('contain', 'Contained', '+', 'green');
  handled('notify-only', 'Notify only', '~', 'cyan');

  lines.push('', style('bold', `Without a real-shaped fixture (${summary.typesWithoutFixture.length})`));
  for (const type of summary.typesWithoutFixture) lines.push(`  ${style('dim', '-')} ${type}`);

  lines.push(
    '',
    style(
      'bold',
      `ATT&CK techniques covered: ${summary.coveredTechniques} of ${summary.techniques} (CTID GuardDuty mapping; ` +
        `${summary.relatedOnlyTechniques} more reached only as related)`,
    ),
  );
  for (const technique of coverage.techniques) {
    const colour =
      technique.score === 100
        ? 'green'
        : technique.coveredAs === 'related'
          ? 'dim'
          : technique.score === 0
            ? 'red'
            : 'yellow';
    const primary =
      technique.findingTypes.length > 0
        ? `${technique.coveredTypes.length}/${technique.findingTypes.length} types`
        : technique.relatedTypes.length > 0
          ? 'no type about it'
          : 'no active type';
    const related =
      technique.relatedTypes.length > 0
        ? `, related ${technique.coveredRelatedTypes.length}/${technique.relatedTypes.length}`
        : '';
    const detail = `${primary}${related}`;
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
      ...(playbook.relatedTechniques ? ['related techniques too'] : []),
    ].join(', ');
    const flags = [
      ...(playbook.fallback ? ['fallback'] : []),
      ...(playbook.response === 'notify-only' ? ['notify only'] : []),
      ...(playbook.enabled ? [] : ['disabled']),
    ];
    lines.push(
      `  ${pad(playbook.name, 40)} ${pad(`${playbook.types.length} types`, 10)} ${reach}${flags.length > 0 ? ` [${flags.join(', ')}]` : ''}`,
    );
    for (const pattern of playbook.unmatchedPatterns) {
      lines.push(`    ${style('yellow', '!')} pattern ${pattern} matches no active GuardDuty finding type`);
    }
  }
  return lines;
};

const shown = (io: CliIO, path: string): string => relative(io.cwd, path) || path;

const isDirectory = (path: string): Promise<boolean> => stat(path).then((found) => found.isDirectory());

/**
 * The cases files of the playbooks coverage measures, found as `commandPlaybooks` finds the
 * playbooks: under each given directory, beside each given playbook file (`x.yaml` -> `x.cases.yaml`),
 * or the project's sources' cases.
 */
const casesFilesOf = async (project: Project, given: string[] | undefined, io: CliIO): Promise<string[]> => {
  const paths =
    given && given.length > 0 ? given : io.env.RIPOSTE_PLAYBOOKS ? [io.env.RIPOSTE_PLAYBOOKS] : [];
  if (paths.length === 0) return (await resolveSources(project)).flatMap((source) => source.cases);
  const files: string[] = [];
  for (const path of paths.map((entry) => resolve(io.cwd, entry))) {
    if (await isDirectory(path)) {
      files.push(
        ...(await glob('**/*.cases.{yaml,yml}', {
          cwd: path,
          absolute: true,
          ignore: ['**/node_modules/**'],
        })),
      );
    } else if (!/\.cases\.ya?ml$/.test(path)) {
      const sibling = join(dirname(path), basename(path).replace(/\.ya?ml$/, '.cases.yaml'));
      if (sibling !== path && (await stat(sibling).catch(() => undefined))) files.push(sibling);
    }
  }
  return [...new Set(files)].sort();
};

/** The types of the real-shaped findings the cases replay; a cases file that does not load is skipped, with a warning. */
const caseFindingTypes = async (files: string[], io: CliIO): Promise<string[]> => {
  const types: string[] = [];
  for (const file of files) {
    try {
      for (const caseFile of await loadCases([file])) {
        for (const testCase of caseFile.cases) {
          if (!testCase.finding.sample) types.push(testCase.finding.type.name);
        }
      }
    } catch (error) {
      if (!(error instanceof CaseValidationError)) throw error;
      io.stderr(
        io.style(
          'yellow',
          `${shown(io, file)}: cases not read for fixtures (${error.issues.length} problem(s); riposte test lists them)`,
        ),
      );
    }
  }
  return types;
};

/** The types of the real-shaped findings in `--fixtures` files and directories (`*.json`, recursively). */
const fixtureFindingTypes = async (given: string[], io: CliIO): Promise<string[]> => {
  const types: string[] = [];
  for (const path of given.map((entry) => resolve(io.cwd, entry))) {
    const files = (await isDirectory(path))
      ? (await glob('**/*.json', { cwd: path, absolute: true, ignore: ['**/node_modules/**'] })).sort()
      : [path];
    let skipped = 0;
    for (const file of files) {
      try {
        const findings = normalize(JSON.parse(await readFile(file, 'utf8')));
        types.push(...findings.filter((finding) => !finding.sample).map((finding) => finding.type.name));
      } catch (error) {
        if (!(error instanceof SyntaxError || error instanceof FindingFormatError)) throw error;
        skipped += 1;
      }
    }
    if (skipped > 0) {
      io.stderr(
        io.style('yellow', `${shown(io, path)}: ${skipped} file(s) hold no GuardDuty finding; skipped`),
      );
    }
  }
  return types;
};

export const runCoverage = async (args: string[], io: CliIO): Promise<number> => {
  const { values } = parseCommandArgs(
    args,
    {
      playbooks: { type: 'string', multiple: true },
      fixtures: { type: 'string', multiple: true },
      navigator: { type: 'string' },
      json: { type: 'boolean' },
      ...CONFIG_OPTION,
    },
    false,
  );
  const project = await projectOf(io, values.config);
  const playbooks = await commandPlaybooks(project, values.playbooks, io);
  const fixtureTypes = [
    ...(await caseFindingTypes(await casesFilesOf(project, values.playbooks, io), io)),
    ...(await fixtureFindingTypes(values.fixtures ?? [], io)),
  ];
  const coverage = computeCoverage(playbooks, {
    phaseOf: (action) => project.registry.get(action)?.phase,
    fixtureTypes,
  });
  if (values.navigator) {
    const out = resolve(io.cwd, values.navigator);
    await writeFile(out, `${JSON.stringify(navigatorLayer(coverage), null, 2)}\n`);
    if (!values.json) io.stderr(`wrote ATT&CK Navigator layer to ${relative(io.cwd, out) || out}`);
  }
  io.stdout(values.json ? JSON.stringify(coverage, null, 2) : formatCoverage(coverage, io.style).join('\n'));
  return EXIT.ok;
};
