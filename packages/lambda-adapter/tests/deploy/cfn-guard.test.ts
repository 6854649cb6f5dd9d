import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONTROL_TOWER_RULES,
  type GuardFailure,
  guardBinary,
  guardVersion,
  runGuard,
} from './helpers/cfn-guard.js';
import { allVariants, type Template } from './helpers/deploy.js';
import { resolveTemplate } from './helpers/resolve.js';

/**
 * Every generated template through cfn-guard with the AWS Control Tower proactive controls that
 * @cdklabs/cdk-validator-cfnguard bundles. The controls still failing must be exactly the checked-in
 * allowlist (fixtures/cfn-guard-allowlist.json), each with its reason: a new failure and a control
 * that now passes both fail here, so the list (and example 05, which repeats it) stays true.
 *
 * Guard reads the template as written, and cannot see through `Fn::If`; so the shipped template is
 * also checked as CloudFormation would create it, resolved for a deployment without a KMS key and for
 * one with a key. Each allowlist entry says in which of the three it fails.
 */

type Context = 'template' | 'deployed without a KMS key' | 'deployed with a KMS key';

interface AllowedFailure {
  resources: string[];
  reason: string;
  failsIn: Context[];
}

const ALLOWLIST = JSON.parse(
  readFileSync(new URL('./fixtures/cfn-guard-allowlist.json', import.meta.url), 'utf8'),
) as Record<string, AllowedFailure>;

const variants = allVariants();
const shipped = variants[0]!;
const KMS_PARAMETER = 'KmsKeyArn';
const KMS_KEY_ARN = `arn:aws:kms:us-east-1:${shipped.deployment.accountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

/** The shipped template as CloudFormation would create it, its parameters and conditions applied. */
const deployed = (parameters: Record<string, string>): Template => {
  const resolved = resolveTemplate(shipped.template, {
    ...shipped.deployment,
    parameters: { ...shipped.deployment.parameters, ...parameters },
  });
  return { AWSTemplateFormatVersion: '2010-09-09', Resources: resolved.resources };
};

/** What guard found against what the allowlist expects for this template in this context. */
const compare = (failures: GuardFailure[], template: Template, context: Context) => {
  const failing = failures.flatMap((failure) =>
    failure.resources.map((resource) => `${failure.control} ${resource}`),
  );
  const allowed = Object.entries(ALLOWLIST)
    .filter(([, entry]) => entry.failsIn.includes(context))
    .flatMap(([control, entry]) =>
      entry.resources
        .filter((resource) => resource in template.Resources)
        .map((resource) => `${control} ${resource}`),
    );
  const messages = new Map(failures.map((failure) => [failure.control, failure.message]));
  return {
    notAllowlisted: failing
      .filter((item) => !allowed.includes(item))
      .map((item) => `${item}: ${messages.get(item.split(' ')[0]!)}`),
    allowlistedButPassing: allowed.filter((item) => !failing.includes(item)),
  };
};

interface Run {
  name: string;
  context: Context;
  template: Template;
  failures?: GuardFailure[];
}

const runs: Run[] = [
  ...variants.map((variant) => ({
    name: `the ${variant.name} template`,
    context: 'template' as const,
    template: variant.template,
  })),
  {
    name: 'the shipped template deployed without a KMS key',
    context: 'deployed without a KMS key',
    template: deployed({}),
  },
  {
    name: 'the shipped template deployed with a KMS key',
    context: 'deployed with a KMS key',
    template: deployed({ [KMS_PARAMETER]: KMS_KEY_ARN }),
  },
];

beforeAll(async () => {
  // One guard process per template, every rule at once, all templates concurrently.
  const failures = await Promise.all(runs.map((run) => runGuard(run.template)));
  runs.forEach((run, index) => {
    run.failures = failures[index];
  });
  // Several guard processes over 200+ rules each: seconds on an idle machine, more under a full suite.
}, 60_000);

describe('cfn-guard', () => {
  it('is the bundled 3.1.1 binary, and it runs on this machine', () => {
    const binary = guardBinary();

    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' });

    expect(guardVersion()).toBe('3.1.1');
    expect(version.trim()).toBe('cfn-guard 3.1.1');
  });

  it('runs the whole Control Tower rule pack', () => {
    const rules = readdirSync(CONTROL_TOWER_RULES, { recursive: true, encoding: 'utf8' }).filter((name) =>
      name.endsWith('.guard'),
    );

    expect(rules.length).toBeGreaterThan(200);
  });

  it('has a one-line reason and the contexts it fails in for every allowlisted control', () => {
    for (const [control, entry] of Object.entries(ALLOWLIST)) {
      expect(control).toMatch(/^CT\.[A-Z0-9]+\.PR\.\d+$/);
      expect(entry.resources.length).toBeGreaterThan(0);
      expect(entry.reason).toMatch(/^[^\n]{20,200}$/);
      expect(entry.failsIn.length).toBeGreaterThan(0);
    }
  });

  it('takes its KMS key from the KmsKeyArn parameter', () => {
    expect(shipped.template.Parameters).toHaveProperty(KMS_PARAMETER);
  });
});

describe.each(runs)('$name under the Control Tower rules', (run) => {
  it('fails exactly the allowlisted controls', () => {
    expect(compare(run.failures!, run.template, run.context)).toEqual({
      notAllowlisted: [],
      allowlistedButPassing: [],
    });
  });
});
