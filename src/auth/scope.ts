/**
 * Token scopes (`type:name:actions`) as clients send them and as tokens carry them. The name may itself
 * contain colons (`localhost:5000/app`), so a scope is split on its first and its last colon. Input is
 * untrusted: anything malformed or over the limits is dropped, never an error.
 */
export interface AccessScope {
  type: string;
  name: string;
  actions: string[];
}

export const scopeLimits = {
  /** Longest single scope (`type:name:actions`) considered. */
  scopeChars: 1024,
  /** Longest parameter value considered (several scopes separated by spaces). */
  valueChars: 8 * 1024,
  /** Most scopes taken from one request; the rest are ignored. */
  scopes: 32,
  /** Most actions in one scope. */
  actions: 8,
} as const;

const typePattern = /^[a-z0-9]+(?:\([a-z0-9._-]+\))?$/;
const actionPattern = /^(?:[a-z]+|\*)$/;
// Visible ASCII except the separators of the grammar around it.
const namePattern = /^[\x21-\x7e]+$/;

/** Parses one scope; undefined when malformed. */
export function parseScope(text: string): AccessScope | undefined {
  if (text.length === 0 || text.length > scopeLimits.scopeChars) return undefined;
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first <= 0 || last <= first + 1) return undefined;
  const type = text.slice(0, first);
  const name = text.slice(first + 1, last);
  const actionList = text.slice(last + 1);
  if (!typePattern.test(type) || !namePattern.test(name)) return undefined;
  const actions: string[] = [];
  for (const action of actionList.split(',')) {
    if (action === '') continue;
    if (!actionPattern.test(action)) return undefined;
    if (!actions.includes(action)) actions.push(action);
  }
  if (actions.length === 0 || actions.length > scopeLimits.actions) return undefined;
  return { type, name, actions };
}

/**
 * Parses scope parameters: each value may hold several scopes separated by spaces. Malformed scopes are
 * dropped, scopes for the same resource are merged, and at most `scopeLimits.scopes` are kept.
 */
export function parseScopes(values: Iterable<string>): AccessScope[] {
  const merged = new Map<string, AccessScope>();
  let seen = 0;
  for (const value of values) {
    if (value.length > scopeLimits.valueChars) continue;
    for (const part of value.split(/[ \t]+/)) {
      if (part === '') continue;
      if (++seen > scopeLimits.scopes) return [...merged.values()];
      const scope = parseScope(part);
      if (scope === undefined) continue;
      const key = `${scope.type}\u0000${scope.name}`;
      const existing = merged.get(key);
      if (existing === undefined) merged.set(key, scope);
      else
        for (const action of scope.actions)
          if (!existing.actions.includes(action)) existing.actions.push(action);
    }
  }
  return [...merged.values()];
}

export function formatScope(scope: AccessScope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(',')}`;
}

/** Several scopes in one value, space-separated (OAuth2 `scope`, the challenge's `scope`). */
export function formatScopes(scopes: readonly AccessScope[]): string {
  return scopes.map(formatScope).join(' ');
}
