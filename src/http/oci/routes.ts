export type V2Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string };

// Names may contain slashes, so each route is anchored on its fixed suffix, as Distribution's router is.
// The name part is not decoded: a percent-encoded name fails the name grammar instead of being smuggled.
const patterns: [RegExp, (m: RegExpExecArray) => V2Route][] = [
  [/^\/v2\/?$/, () => ({ kind: 'base' })],
  [/^\/v2\/_catalog$/, () => ({ kind: 'catalog' })],
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1]! })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1]!, reference: decode(m[2]!) })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1]!, id: decode(m[2]!) })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1]!, digest: decode(m[2]!) })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1]!, digest: decode(m[2]!) })],
];

export function matchV2Route(pathname: string): V2Route | undefined {
  for (const [pattern, build] of patterns) {
    const match = pattern.exec(pathname);
    if (match) return build(match);
  }
  return undefined;
}

/** Decodes a reference or id segment; a malformed escape is kept as is and fails validation later. */
function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The token-auth actions a request needs (Distribution: GET/HEAD pull; POST/PUT/PATCH push; DELETE delete). */
export function actionsFor(method: string): ('pull' | 'push' | 'delete')[] {
  if (method === 'GET' || method === 'HEAD') return ['pull'];
  if (method === 'DELETE') return ['delete'];
  return ['pull', 'push'];
}
