/**
 * Runs cfn-guard, the binary @cdklabs/cdk-validator-cfnguard ships, with the AWS Control Tower
 * proactive-control rules it ships, against a template: one process per template, every rule at once.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const PACKAGE_DIR = dirname(
  createRequire(import.meta.url).resolve('@cdklabs/cdk-validator-cfnguard/package.json'),
);

export const CONTROL_TOWER_RULES = join(PACKAGE_DIR, 'rules', 'control-tower', 'cfn-guard');

/** The guard version the package bundles (guard-version.json). */
export const guardVersion = (): string =>
  (JSON.parse(readFileSync(join(PACKAGE_DIR, 'guard-version.json'), 'utf8')) as { version: string }).version;

/**
 * The bundled binary for this machine, chosen as the package's own plugin chooses it (guard calls
 * every Linux "ubuntu"). Throws, never skips, when this platform has none or it cannot run.
 */
export const guardBinary = (): string => {
  const os = platform() === 'linux' ? 'ubuntu' : platform() === 'darwin' ? 'macos' : undefined;
  const cpu = arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : undefined;
  if (!os || !cpu) {
    throw new Error(
      `cfn-guard: @cdklabs/cdk-validator-cfnguard ships binaries for linux and darwin on x64 and arm64 only; this machine is ${platform()}/${arch()}`,
    );
  }
  const binary = join(PACKAGE_DIR, 'bin', os, cpu, 'cfn-guard');
  try {
    accessSync(binary, constants.X_OK);
  } catch (error) {
    throw new Error(`cfn-guard: ${binary} is missing or not executable on ${platform()}/${arch()}`, {
      cause: error,
    });
  }
  return binary;
};

export interface GuardFailure {
  /** The Control Tower control id (`CT.LAMBDA.PR.3`), else the guard rule's name. */
  control: string;
  /** The guard rule's name (`lambda_inside_vpc_check`). */
  rule: string;
  /** Logical ids of the resources that fail it. */
  resources: string[];
  /** The control's description and fix, as the rule words them. */
  message: string;
}

const CONTROL_ID = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]:\s*([^\n]*)/;

/** Strings under `key` anywhere in a guard result. */
const collect = (node: unknown, key: string, into: string[] = []): string[] => {
  if (Array.isArray(node)) for (const item of node) collect(item, key, into);
  else if (typeof node === 'object' && node !== null) {
    for (const [name, value] of Object.entries(node)) {
      if (name === key && typeof value === 'string') into.push(value);
      else collect(value, key, into);
    }
  }
  return into;
};

/** The failures of guard's structured JSON report (`validate --output-format json --structured`). */
export const parseGuardReport = (stdout: string): GuardFailure[] => {
  const files = JSON.parse(stdout) as { not_compliant?: { Rule: { name: string } }[] }[];
  const byControl = new Map<string, GuardFailure>();
  for (const file of files) {
    for (const { Rule: rule } of file.not_compliant ?? []) {
      const messages = collect(rule, 'custom_message');
      const control = messages.map((message) => CONTROL_ID.exec(message)).find(Boolean);
      const resources = collect(rule, 'path')
        .map((path) => /^\/Resources\/([^/]+)/.exec(path)?.[1])
        .filter((id): id is string => id !== undefined);
      const key = control?.[1] ?? rule.name;
      const failure = byControl.get(key) ?? {
        control: key,
        rule: rule.name,
        resources: [],
        message: control?.[2]?.trim() ?? rule.name,
      };
      failure.resources = [...new Set([...failure.resources, ...resources])].sort();
      byControl.set(key, failure);
    }
  }
  return [...byControl.values()].sort((a, b) => a.control.localeCompare(b.control));
};

/** Guard's exit codes: 0 every rule passed, 19 some rule failed; anything else is an error. */
const COMPLIANT = 0;
const NOT_COMPLIANT = 19;

/** Writes the template to a temporary file and validates it with every Control Tower rule in one run. */
export const runGuard = async (
  template: unknown,
  rules: string = CONTROL_TOWER_RULES,
): Promise<GuardFailure[]> => {
  const binary = guardBinary();
  const directory = await mkdtemp(join(tmpdir(), 'riposte-guard-'));
  const data = join(directory, 'template.json');
  try {
    await writeFile(data, JSON.stringify(template, null, 2));
    const args = [
      'validate',
      '--rules',
      rules,
      '--data',
      data,
      '--output-format',
      'json',
      '--show-summary',
      'none',
      '--structured',
    ];
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve, reject) => {
        execFile(binary, args, { maxBuffer: 64 * 1024 * 1024 }, (error, out, err) => {
          const exit = error ? (error as { code?: unknown }).code : 0;
          if (typeof exit !== 'number') {
            reject(new Error(`cfn-guard could not run (${binary}): ${error?.message}`, { cause: error }));
          } else resolve({ code: exit, stdout: out, stderr: err });
        });
      },
    );
    if (code !== COMPLIANT && code !== NOT_COMPLIANT) {
      throw new Error(`cfn-guard exited with ${code}: ${stderr.trim() || stdout.slice(0, 2000)}`);
    }
    return parseGuardReport(stdout);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
};
