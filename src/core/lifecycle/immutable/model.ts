import { badRequest } from '../../iam/rules.js';
import {
  repositoryDecorations,
  repositorySelected,
  requireSelector,
  tagDecorations,
  tagsSelected,
  type Selector,
} from '../selectors.js';

/**
 * Harbor's immutable tag rules (src/pkg/immutable): per project, each with one repository selector and
 * one tag selector. A tag that an enabled rule selects can be neither moved to another artifact nor
 * deleted, and retention keeps its artifact.
 */
export interface ImmutableRule {
  id: number;
  projectId: number;
  priority: number;
  disabled: boolean;
  action: string;
  template: string;
  params: Record<string, unknown>;
  tag_selectors: Selector[];
  scope_selectors: { repository: Selector[] };
}

/** What a client writes (the id and project come from the URL). */
export type ImmutableRuleSpec = Omit<ImmutableRule, 'id' | 'projectId'>;

export const maxImmutableRules = 15;

export function requireValidImmutableRule(rule: ImmutableRuleSpec): void {
  if (rule.tag_selectors.length === 0) throw badRequest('tag_selectors: one selector is required');
  if (rule.scope_selectors.repository.length === 0) {
    throw badRequest('scope_selectors.repository: one selector is required');
  }
  rule.tag_selectors.forEach((s, i) => requireSelector(s, tagDecorations, `tag_selectors[${i}]`));
  rule.scope_selectors.repository.forEach((s, i) =>
    requireSelector(s, repositoryDecorations, `scope_selectors.repository[${i}]`),
  );
}

/** Two rules that select the same things (Harbor refuses the second with 409). */
export function sameSelection(a: ImmutableRuleSpec, b: ImmutableRuleSpec): boolean {
  const key = (r: ImmutableRuleSpec) => JSON.stringify([r.tag_selectors, r.scope_selectors.repository]);
  return key(a) === key(b);
}

/**
 * The first enabled rule protecting `tag` in `repository` (the name without its project), as Harbor's
 * matcher decides it: the rule's first repository selector and first tag selector must both select.
 */
export function protectingRule(
  rules: readonly ImmutableRule[],
  repository: string,
  tag: string,
): ImmutableRule | undefined {
  return rules.find((rule) => {
    if (rule.disabled) return false;
    const scope = rule.scope_selectors.repository[0];
    const tags = rule.tag_selectors[0];
    if (scope === undefined || tags === undefined) return false;
    return repositorySelected(scope, repository) && tagsSelected(tags, [tag]);
  });
}

/** How a refusal names the rule. */
export function describeRule(rule: ImmutableRule): string {
  const scope = rule.scope_selectors.repository[0];
  const tags = rule.tag_selectors[0];
  return `immutable tag rule ${rule.id} (repositories ${scope?.decoration ?? ''} ${JSON.stringify(scope?.pattern ?? '')}, tags ${tags?.decoration ?? ''} ${JSON.stringify(tags?.pattern ?? '')})`;
}
