import type { Digest } from '../../oci/digest.js';
import { repositorySelected, tagsSelected } from '../selectors.js';
import { ruleParameter, type RetentionPolicy, type RetentionRule } from './model.js';

/** One artifact of a repository as retention sees it (Harbor's `selector.Candidate`). */
export interface RetentionCandidate {
  digest: Digest;
  tags: string[];
  /** The latest push of the artifact and of its tags. */
  pushedAt: Date;
  /** The latest pull, if it was ever pulled. */
  pulledAt?: Date;
  /** A tag of it is protected by an immutable tag rule. */
  immutable: boolean;
}

export type RetentionAction = 'RETAIN' | 'DEL' | 'IMMUTABLE';

export interface RetentionDecision {
  candidate: RetentionCandidate;
  action: RetentionAction;
  /** Ids of the rules that retained it. */
  retainedBy: number[];
}

const dayMs = 86_400_000;

/** The enabled rules whose repository selectors all select `repository` (the name without its project). */
export function rulesFor(policy: RetentionPolicy, repository: string): RetentionRule[] {
  return policy.rules.filter(
    (rule) =>
      !rule.disabled && rule.scope_selectors.repository.every((s) => repositorySelected(s, repository)),
  );
}

/** What one rule retains among `candidates`: its tag selectors in turn (AND), then its template. */
export function retainedByRule(
  rule: RetentionRule,
  candidates: readonly RetentionCandidate[],
  now: Date,
): RetentionCandidate[] {
  let selected = [...candidates];
  for (const selector of rule.tag_selectors)
    selected = selected.filter((c) => tagsSelected(selector, c.tags));
  const n = ruleParameter(rule);
  switch (rule.template) {
    case 'always':
      return selected;
    case 'latestPushedK':
      return byNewest(selected, (c) => c.pushedAt.getTime()).slice(0, n);
    case 'latestPulledN':
      return byNewest(selected, (c) => c.pulledAt?.getTime() ?? 0).slice(0, n);
    case 'nDaysSinceLastPush': {
      const since = now.getTime() - n * dayMs;
      return selected.filter((c) => c.pushedAt.getTime() >= since);
    }
    case 'nDaysSinceLastPull': {
      const since = now.getTime() - n * dayMs;
      return selected.filter((c) => c.pulledAt !== undefined && c.pulledAt.getTime() >= since);
    }
  }
}

/** Newest first; ties broken by digest so that the result does not depend on the input order. */
function byNewest(list: RetentionCandidate[], time: (c: RetentionCandidate) => number): RetentionCandidate[] {
  return list.sort((a, b) => time(b) - time(a) || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
}

/**
 * Harbor's "or" algorithm for one repository, pure (the time is given): the union of what its rules
 * retain is kept, every other artifact is deleted, except immutable ones, which are reported IMMUTABLE
 * and kept. Undefined when no enabled rule selects the repository: it is then left alone.
 */
export function evaluateRepository(
  policy: RetentionPolicy,
  repository: string,
  candidates: readonly RetentionCandidate[],
  now: Date,
): RetentionDecision[] | undefined {
  const rules = rulesFor(policy, repository);
  if (rules.length === 0) return undefined;
  const retainedBy = new Map<Digest, number[]>();
  for (const rule of rules) {
    for (const kept of retainedByRule(rule, candidates, now)) {
      retainedBy.set(kept.digest, [...(retainedBy.get(kept.digest) ?? []), rule.id]);
    }
  }
  return candidates.map((candidate) => {
    const by = retainedBy.get(candidate.digest) ?? [];
    const action: RetentionAction = by.length > 0 ? 'RETAIN' : candidate.immutable ? 'IMMUTABLE' : 'DEL';
    return { candidate, action, retainedBy: by };
  });
}
