import type { RetentionArtifact } from '../../ports.js';
import { protectingRule, type ImmutableRule } from '../immutable/model.js';
import type { RetentionCandidate } from './evaluator.js';

/**
 * The artifacts retention considers in a repository, as Harbor lists them: tagged ones and those no index
 * references (platform images of an index go with it), without accessories (manifests with a subject),
 * which go with their subject. Push and pull times are the latest of the artifact and of its tags.
 */
export function candidatesOf(
  artifacts: readonly RetentionArtifact[],
  repository: string,
  immutableRules: readonly ImmutableRule[],
): RetentionCandidate[] {
  const present = new Set(artifacts.map((a) => a.digest));
  return artifacts
    .filter((a) => a.tags.length > 0 || !a.referenced)
    .filter((a) => a.subject === undefined || !present.has(a.subject))
    .map((a) => {
      let pushed = a.createdAt.getTime();
      for (const tag of a.tags) pushed = Math.max(pushed, tag.updatedAt.getTime());
      const tags = a.tags.map((t) => t.name);
      return {
        digest: a.digest,
        tags,
        pushedAt: new Date(pushed),
        ...(a.pulledAt !== undefined && { pulledAt: a.pulledAt }),
        immutable: tags.some((tag) => protectingRule(immutableRules, repository, tag) !== undefined),
      };
    });
}
