/**
 * Real GuardDuty findings, normalized by the product's own normalizer, for matcher and engine tests.
 * Each comes from tests/fixtures/findings (unchanged copies of shared/data/findings).
 */
import { readFileSync } from 'node:fs';
import { ctidTechnique } from '../../src/attack/mapping.js';
import type { AttackRelation, Finding, Tags, Technique } from '../../src/finding.js';
import { normalizeFinding } from '../../src/normalize/index.js';

const SAMPLE_FILES = {
  instanceCredentialExfiltration:
    '39-unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.json',
  s3Exfiltration: '43-exfiltration-s3-maliciousipcaller.json',
  cloudTrailLoggingDisabled: '29-stealth-iamuser-cloudtrailloggingdisabled.json',
  backdoorCommandAndControl: '31-backdoor-ec2-c-cactivity-b.json',
  rootCredentialUsage: '50-policy-iamuser-rootcredentialusage.json',
} as const;

export type SampleName = keyof typeof SAMPLE_FILES;

export const sampleRaw = (name: SampleName): Record<string, unknown> =>
  JSON.parse(
    readFileSync(
      new URL(`../fixtures/findings/elastic-integrations/${SAMPLE_FILES[name]}`, import.meta.url),
      'utf8',
    ),
  );

/** A fresh copy of one real finding, with `overrides` laid over its top-level fields. */
export const sampleFinding = (name: SampleName, overrides: Partial<Finding> = {}): Finding => ({
  ...normalizeFinding(sampleRaw(name)),
  ...overrides,
});

/** A CTID technique by id, as the normalizer attaches it to a type it is `relation` to. */
export const technique = (id: string, relation: AttackRelation = 'primary'): Technique => {
  const found = ctidTechnique(id);
  if (!found) throw new Error(`the CTID mapping has no technique ${id}`);
  return { id, name: found.name, tactics: [...found.tactics], source: 'ctid', relation };
};

/** The finding with `tags` added to its resource at `index` (which must be one that carries tags). */
export const withResourceTags = (finding: Finding, index: number, tags: Tags): Finding => {
  if (!finding.resources[index]) throw new Error(`the finding has no resource ${index}`);
  return {
    ...finding,
    resources: finding.resources.map((resource, at) => {
      if (at !== index) return resource;
      if (!('tags' in resource)) throw new Error(`resource ${index} (${resource.kind}) carries no tags`);
      return { ...resource, tags: { ...resource.tags, ...tags } };
    }),
  };
};
