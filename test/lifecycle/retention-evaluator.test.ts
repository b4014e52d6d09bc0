// The pure retention evaluator: every template, each selector kind and decoration, untagged handling, the
// OR of rules and immutable skips, each with its exact kept and deleted sets (an injected time).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateRepository, type RetentionCandidate } from '../../src/core/lifecycle/retention/evaluator.js';
import type { RetentionPolicy, RetentionRule } from '../../src/core/lifecycle/retention/model.js';
import { requireValidPolicy } from '../../src/core/lifecycle/retention/model.js';
import type { Selector } from '../../src/core/lifecycle/selectors.js';
import type { Digest } from '../../src/core/oci/digest.js';

const now = new Date('2025-01-31T00:00:00Z');
const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);

function art(name: string, tags: string[], pushedDaysAgo: number, pulledDaysAgo?: number, immutable = false) {
  return {
    digest: `sha256:${name}` as Digest,
    tags,
    pushedAt: daysAgo(pushedDaysAgo),
    ...(pulledDaysAgo !== undefined && { pulledAt: daysAgo(pulledDaysAgo) }),
    immutable,
  } satisfies RetentionCandidate;
}

// a: v1 (10 days, pulled 1), b: v2 (5 days, pulled 20), c: latest+v3 (1 day), d: untagged (2 days), e: dev-x (40 days, pulled 3)
const repo: RetentionCandidate[] = [
  art('a', ['v1'], 10, 1),
  art('b', ['v2'], 5, 20),
  art('c', ['latest', 'v3'], 1),
  art('d', [], 2, 2),
  art('e', ['dev-x'], 40, 3),
];

const all: Selector = { kind: 'doublestar', decoration: 'repoMatches', pattern: '**' };

function rule(
  template: RetentionRule['template'],
  n: number | undefined,
  tags: Selector[],
  scope = [all],
): RetentionRule {
  return {
    id: 1,
    priority: 0,
    disabled: false,
    action: 'retain',
    template,
    params: n === undefined ? {} : { [template]: n },
    tag_selectors: tags,
    scope_selectors: { repository: scope },
  };
}

function policy(...rules: RetentionRule[]): RetentionPolicy {
  return {
    algorithm: 'or',
    rules: rules.map((r, i) => ({ ...r, id: i + 1 })),
    trigger: { kind: 'Schedule', settings: {} },
    scope: { level: 'project', ref: 1 },
  };
}

const tags = (decoration: string, pattern: string, untagged?: boolean, kind = 'doublestar'): Selector => ({
  kind,
  decoration,
  pattern,
  ...(untagged !== undefined && { extras: JSON.stringify({ untagged }) }),
});

/** The kept and deleted digests (names), sorted; immutable ones listed apart. */
function outcome(p: RetentionPolicy, candidates = repo, name = 'app') {
  const decisions = evaluateRepository(p, name, candidates, now);
  if (decisions === undefined) return undefined;
  const pick = (action: string) =>
    decisions
      .filter((d) => d.action === action)
      .map((d) => d.candidate.digest.slice(7))
      .sort();
  return { kept: pick('RETAIN'), deleted: pick('DEL'), immutable: pick('IMMUTABLE') };
}

describe('retention templates', () => {
  it('latestPushedK keeps the K most recently pushed of the selected', () => {
    assert.deepEqual(outcome(policy(rule('latestPushedK', 2, [tags('matches', '**', false)]))), {
      kept: ['b', 'c'],
      deleted: ['a', 'd', 'e'],
      immutable: [],
    });
  });

  it('latestPulledN keeps the N most recently pulled (never pulled last)', () => {
    assert.deepEqual(outcome(policy(rule('latestPulledN', 2, [tags('matches', '**', true)]))), {
      kept: ['a', 'd'],
      deleted: ['b', 'c', 'e'],
      immutable: [],
    });
  });

  it('nDaysSinceLastPush keeps what was pushed within N days', () => {
    assert.deepEqual(outcome(policy(rule('nDaysSinceLastPush', 5, [tags('matches', '**', true)]))), {
      kept: ['b', 'c', 'd'],
      deleted: ['a', 'e'],
      immutable: [],
    });
  });

  it('nDaysSinceLastPull keeps what was pulled within N days (never pulled is not)', () => {
    assert.deepEqual(outcome(policy(rule('nDaysSinceLastPull', 3, [tags('matches', '**', true)]))), {
      kept: ['a', 'd', 'e'],
      deleted: ['b', 'c'],
      immutable: [],
    });
  });

  it('always keeps every selected artifact', () => {
    assert.deepEqual(outcome(policy(rule('always', undefined, [tags('matches', 'v*', false)]))), {
      kept: ['a', 'b', 'c'],
      deleted: ['d', 'e'],
      immutable: [],
    });
  });

  it('uses Harbor defaults when the parameter is missing (latestPushedK 10)', () => {
    assert.deepEqual(outcome(policy(rule('latestPushedK', undefined, [])))?.deleted, []);
  });
});

describe('retention selectors', () => {
  it('tag matches with doublestar: any tag matching selects the artifact', () => {
    assert.deepEqual(outcome(policy(rule('always', undefined, [tags('matches', 'latest', false)])))?.kept, [
      'c',
    ]);
  });

  it('tag excludes: selected when some tag does not match', () => {
    assert.deepEqual(outcome(policy(rule('always', undefined, [tags('excludes', 'v*', true)]))), {
      kept: ['c', 'e'],
      deleted: ['a', 'b', 'd'],
      immutable: [],
    });
  });

  it('untagged: matches selects untagged ones by default, excludes does not exclude them by default', () => {
    assert.deepEqual(outcome(policy(rule('always', undefined, [tags('matches', 'v1')])))?.kept, ['a', 'd']);
    assert.deepEqual(outcome(policy(rule('always', undefined, [tags('excludes', '**')])))?.kept, ['d']);
    assert.deepEqual(outcome(policy(rule('always', undefined, [tags('excludes', '**', true)])))?.kept, []);
  });

  it('untagged artifacts are kept only when a rule selects them', () => {
    assert.deepEqual(outcome(policy(rule('always', undefined, [tags('matches', '**', false)])))?.deleted, [
      'd',
    ]);
    assert.deepEqual(outcome(policy(rule('always', undefined, [tags('matches', '**', true)])))?.deleted, []);
  });

  it('regex tag selectors match anywhere unless anchored', () => {
    assert.deepEqual(
      outcome(policy(rule('always', undefined, [tags('matches', '^v[12]$', false, 'regex')])))?.kept,
      ['a', 'b'],
    );
    assert.deepEqual(
      outcome(policy(rule('always', undefined, [tags('matches', 'x', false, 'regex')])))?.kept,
      ['e'],
    );
    assert.deepEqual(
      outcome(policy(rule('always', undefined, [tags('excludes', '^v', false, 'regex')])))?.kept,
      ['c', 'd', 'e'],
    );
  });

  it('several tag selectors all apply (AND)', () => {
    const p = policy(
      rule('always', undefined, [tags('matches', 'v*', false), tags('excludes', 'v1', false)]),
    );
    assert.deepEqual(outcome(p)?.kept, ['b', 'c']);
  });

  it('repository selectors: repoMatches and repoExcludes, doublestar and regex; unmatched repositories are left alone', () => {
    const only = (scope: Selector) => policy(rule('latestPushedK', 1, [], [scope]));
    const doublestar = { kind: 'doublestar', decoration: 'repoMatches', pattern: 'team/*' };
    assert.deepEqual(outcome(only(doublestar), repo, 'team/app')?.kept, ['c']);
    assert.equal(outcome(only(doublestar), repo, 'team/a/b'), undefined, '* stays in one segment');
    assert.notEqual(outcome(only({ ...doublestar, pattern: 'team/**' }), repo, 'team/a/b'), undefined);
    assert.equal(outcome(only({ ...doublestar, decoration: 'repoExcludes' }), repo, 'team/app'), undefined);
    assert.notEqual(outcome(only({ ...doublestar, decoration: 'repoExcludes' }), repo, 'other'), undefined);
    const regex = { kind: 'regex', decoration: 'repoMatches', pattern: '^svc-[0-9]+$' };
    assert.notEqual(outcome(only(regex), repo, 'svc-12'), undefined);
    assert.equal(outcome(only(regex), repo, 'svc-x'), undefined);
    assert.notEqual(outcome(only({ ...regex, decoration: 'repoExcludes' }), repo, 'svc-x'), undefined);
  });

  it('disabled rules select nothing', () => {
    assert.equal(outcome(policy({ ...rule('always', undefined, []), disabled: true })), undefined);
  });
});

describe('retention algorithm', () => {
  it('keeps the union of what the rules retain (OR)', () => {
    const p = policy(
      rule('latestPushedK', 1, [tags('matches', 'v*', false)]),
      rule('nDaysSinceLastPull', 5, [tags('matches', 'dev-*', false)]),
    );
    assert.deepEqual(outcome(p), { kept: ['c', 'e'], deleted: ['a', 'b', 'd'], immutable: [] });
  });

  it('skips immutable artifacts and reports them IMMUTABLE', () => {
    const candidates = repo.map((c) => (c.digest.endsWith('a') ? { ...c, immutable: true } : c));
    assert.deepEqual(outcome(policy(rule('latestPushedK', 1, [])), candidates), {
      kept: ['c'],
      deleted: ['b', 'd', 'e'],
      immutable: ['a'],
    });
  });

  it('rejects invalid policies', () => {
    const bad = (p: RetentionPolicy) => assert.throws(() => requireValidPolicy(p), { code: 'BAD_REQUEST' });
    bad(policy(rule('latestPushedK', -1, [])));
    bad(policy(rule('always', undefined, [tags('contains', 'x')])));
    bad(policy(rule('always', undefined, [tags('matches', '(', false, 'regex')])));
    bad(policy(...Array.from({ length: 16 }, (_, i) => rule('latestPushedK', i, []))));
    bad(
      policy(rule('always', undefined, [], [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }])),
    );
    requireValidPolicy(policy(rule('latestPushedK', 3, [tags('matches', '**', true)])));
  });
});
