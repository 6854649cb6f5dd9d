import { describe, expect, it } from 'vitest';
import {
  type PolicyEntry,
  type PolicyStatement,
  packStatements,
  policyDocument,
  policySize,
} from '../../src/deploy/permissions.js';

const allow = (sid: string, actions: number): PolicyStatement => ({
  Sid: sid,
  Effect: 'Allow',
  Action: Array.from({ length: actions }, (_, index) => `ec2:Describe${sid}${index}`),
  Resource: '*',
});

/** The member role's AssumeRole, as the function stack writes it: gone when no account is allowed. */
const ASSUME: PolicyEntry = {
  'Fn::If': [
    'AssumesInAllowedAccounts',
    { Sid: 'AssumeMemberRole', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: '*' },
    { Ref: 'AWS::NoValue' },
  ],
};

const conditional = (entry: PolicyEntry) => 'Fn::If' in entry;

describe('packStatements', () => {
  it('packs in order, first fit, each document within the limit', () => {
    const entries = [allow('A', 10), allow('B', 10), allow('C', 10)];
    const limit = policySize(policyDocument(entries.slice(0, 2)));

    const documents = packStatements(entries, limit);

    expect(documents).toEqual([[entries[0], entries[1]], [entries[2]]]);
  });

  it('never leaves a document only conditional statements, which CloudFormation would find empty', () => {
    // Two statements fill a document; the conditional one would start a document of its own.
    const entries = [allow('A', 10), allow('B', 10), ASSUME];
    const limit = policySize(policyDocument(entries.slice(0, 2)));

    const documents = packStatements(entries, limit);

    expect(documents).toEqual([[entries[0]], [entries[1], ASSUME]]);
    for (const document of documents) {
      expect(document.some((entry) => !conditional(entry))).toBe(true);
      expect(policySize(policyDocument(document))).toBeLessThanOrEqual(limit);
    }
  });

  it('refuses when no unconditional statement can keep a conditional one company', () => {
    const entries = [allow('A', 10), ASSUME];
    const limit = policySize(policyDocument(entries.slice(0, 1)));

    expect(() => packStatements(entries, limit)).toThrow(/only conditional statements/);
  });
});
