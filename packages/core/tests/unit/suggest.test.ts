import { describe, expect, it } from 'vitest';
import { closestNames, didYouMean, editDistance, nameDistance, nearest } from '../../src/suggest.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['notify', 'notify', 0],
    ['', 'notify', 6],
    ['notfy', 'notify', 1],
    ['notifyy', 'notify', 1],
    ['notifi', 'notify', 1],
    ['kitten', 'sitting', 3],
  ])('counts insertions, deletions and substitutions: %s -> %s is %d', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });

  it('counts two adjacent characters swapped as one edit', () => {
    expect(editDistance('ntoify', 'notify')).toBe(1);
    expect(editDistance('Unusaul', 'Unusual')).toBe(1);
  });

  it('counts a change of case as half an edit', () => {
    expect(editDistance('onerror', 'onError')).toBe(0.5);
    expect(editDistance('maxtargets', 'maxTargets')).toBe(0.5);
  });
});

describe('nameDistance', () => {
  it('is undefined when a name is too far off to be a slip', () => {
    expect(nameDistance('limits', 'actions')).toBeUndefined();
    expect(nameDistance('id', 'on')).toBeUndefined();
  });

  it('accepts a name that leaves out a word or two of the one meant', () => {
    expect(nameDistance('isolate', 'isolate-instance')).toBe(1.5);
    expect(nameDistance('detach-profile', 'detach-instance-profile')).toBe(1.5);
    expect(nameDistance('isolate', 'isolate-rds-instance')).toBe(2.5);
    expect(nameDistance('isolate', 'isolate-some-other-thing')).toBeUndefined();
  });

  it('takes the words in order only', () => {
    expect(nameDistance('instance-isolate', 'isolate-instance')).toBeUndefined();
  });
});

describe('nearest', () => {
  it('keeps only those tied for the best score, in the order given, at most three', () => {
    expect(
      nearest([
        ['a', 2],
        ['b', 1],
        ['c', undefined],
        ['d', 1],
        ['e', 1],
        ['f', 1],
      ]),
    ).toEqual(['b', 'd', 'e']);
  });

  it('suggests nothing when nothing was scored', () => {
    expect(nearest([['a', undefined]])).toEqual([]);
  });
});

describe('closestNames', () => {
  const actions = ['isolate-instance', 'isolate-eks-pod', 'isolate-rds-instance', 'notify', 'tag-resource'];

  it('prefers a one-character slip over a longer name', () => {
    expect(closestNames('notfy', actions)).toEqual(['notify']);
  });

  it('prefers the name adding the fewest words', () => {
    expect(closestNames('isolate', actions)).toEqual(['isolate-instance']);
  });

  it('offers nothing for a name near no known one, and never the name itself', () => {
    expect(closestNames('quarantine-bucket', actions)).toEqual([]);
    expect(closestNames('notify', actions)).toEqual([]);
  });

  it('offers the key with only its case changed', () => {
    expect(closestNames('maxtargets', ['maxTargets', 'maxTarget'])).toEqual(['maxTargets']);
  });
});

describe('didYouMean', () => {
  it('leaves the message as it is without suggestions', () => {
    expect(didYouMean('unknown action "x"', [])).toBe('unknown action "x"');
  });

  it('names one suggestion, or several joined with "or"', () => {
    expect(didYouMean('unknown action "notfy"', ['notify'])).toBe(
      'unknown action "notfy"; did you mean "notify"?',
    );
    expect(didYouMean('m', ['a', 'b', 'c'])).toBe('m; did you mean "a", "b" or "c"?');
  });
});
