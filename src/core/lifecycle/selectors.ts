import { minimatch } from 'minimatch';
import { badRequest } from '../iam/rules.js';

/**
 * Harbor's selectors (src/lib/selector): a kind, a decoration and a pattern. `doublestar` patterns are
 * globs where `*` stays inside one path segment and `**` crosses `/` (bmatcuk/doublestar, matched here with
 * minimatch); `regex` patterns are regular expressions that may match anywhere in the value, as Harbor's
 * `regexp.MatchString` does. An empty pattern matches everything.
 */
export type SelectorKind = 'doublestar' | 'regex';
export const selectorKinds: readonly SelectorKind[] = ['doublestar', 'regex'];
export const tagDecorations = ['matches', 'excludes'] as const;
export const repositoryDecorations = ['repoMatches', 'repoExcludes'] as const;

export interface Selector {
  kind: string;
  decoration: string;
  pattern: string;
  /** Tag selectors: JSON text such as `{"untagged":true}` (Harbor keeps it as a string). */
  extras?: string;
}

const maxPattern = 255;
const regexCache = new Map<string, RegExp>();

export function patternMatches(kind: string, pattern: string, value: string): boolean {
  if (pattern === '') return true;
  if (kind === 'regex') {
    let regex = regexCache.get(pattern);
    if (regex === undefined) {
      regex = new RegExp(pattern, 'u');
      if (regexCache.size > 1_000) regexCache.clear();
      regexCache.set(pattern, regex);
    }
    return regex.test(value);
  }
  return minimatch(value, pattern, { dot: true, nonegate: true, nocomment: true });
}

/** Checks a selector's kind, decoration and pattern; throws BAD_REQUEST naming `where`. */
export function requireSelector(selector: Selector, decorations: readonly string[], where: string): void {
  if (!(selectorKinds as readonly string[]).includes(selector.kind)) {
    throw badRequest(`${where}: unknown selector kind ${JSON.stringify(selector.kind.slice(0, 50))}`);
  }
  if (!decorations.includes(selector.decoration)) {
    throw badRequest(
      `${where}: decoration must be one of ${decorations.join(', ')}, not ${JSON.stringify(selector.decoration.slice(0, 50))}`,
    );
  }
  if (selector.pattern.length > maxPattern) throw badRequest(`${where}: pattern is too long`);
  if (selector.kind === 'regex') {
    try {
      new RegExp(selector.pattern, 'u');
    } catch {
      throw badRequest(`${where}: invalid regular expression`);
    }
  }
  if (selector.extras !== undefined && selector.extras !== '') {
    try {
      JSON.parse(selector.extras);
    } catch {
      throw badRequest(`${where}: extras must be JSON text such as {"untagged":true}`);
    }
  }
}

/** Harbor's repository selector: repoMatches keeps repositories the pattern matches, repoExcludes the others. */
export function repositorySelected(selector: Selector, repository: string): boolean {
  const matched = patternMatches(selector.kind, selector.pattern, repository);
  return selector.decoration === 'repoExcludes' ? !matched : matched;
}

/**
 * Harbor's untagged flag: `extras` `{"untagged": bool}`, by default true for `matches` (untagged artifacts
 * are selected) and false for `excludes` (where true means "exclude untagged ones too").
 */
export function untaggedFlag(selector: Selector): boolean {
  let untagged = selector.decoration !== 'excludes';
  if (selector.extras !== undefined && selector.extras !== '') {
    try {
      const parsed = JSON.parse(selector.extras) as unknown;
      if (typeof parsed === 'object' && parsed !== null) {
        untagged = (parsed as { untagged?: unknown }).untagged === true;
      }
    } catch {
      // Harbor ignores extras it cannot read and keeps the default.
    }
  }
  return untagged;
}

/**
 * Harbor's tag selector over an artifact's tags: `matches` selects it when any tag matches, `excludes`
 * when any tag does not; an untagged artifact is selected by `matches` when `untagged` is set and by
 * `excludes` when it is not.
 */
export function tagsSelected(selector: Selector, tags: readonly string[]): boolean {
  const untagged = untaggedFlag(selector);
  if (tags.length === 0) return selector.decoration === 'excludes' ? !untagged : untagged;
  if (selector.decoration === 'excludes') {
    return tags.some((tag) => !patternMatches(selector.kind, selector.pattern, tag));
  }
  return tags.some((tag) => patternMatches(selector.kind, selector.pattern, tag));
}
