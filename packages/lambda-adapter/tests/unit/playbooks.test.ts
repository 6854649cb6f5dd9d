import { createRegistry } from '@riposte/actions';
import { loadPlaybooks } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { bundledPlaybooks, loadFunctionPlaybooks } from '../../src/index.js';

const registry = createRegistry();
const RULES = new URL('../../../../rules', import.meta.url).pathname;

describe('loadFunctionPlaybooks', () => {
  it('uses the bundled playbooks when no directory is configured: those of @riposte/rules', async () => {
    const playbooks = await loadFunctionPlaybooks(undefined, registry, bundledPlaybooks);

    const names = (await loadPlaybooks([RULES], { registry })).map((playbook) => playbook.name);
    expect(playbooks.map((playbook) => playbook.name)).toEqual(names);
    expect(playbooks.map((playbook) => playbook.location.file)).toContain(
      '@riposte/rules/s3-data-exfiltration.yaml',
    );
  });

  it('loads the configured directory instead', async () => {
    const playbooks = await loadFunctionPlaybooks(RULES, registry, async () => []);

    expect(playbooks.map((playbook) => playbook.name)).toContain('ec2-instance-credential-exfiltration');
  });

  it('refuses a bundle without playbooks: the function would never act', async () => {
    await expect(loadFunctionPlaybooks(undefined, registry, async () => [])).rejects.toThrow(
      /no playbooks found/,
    );
  });
});
