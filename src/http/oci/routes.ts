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

/**
 * The path of a request target exactly as the client sent it. WHATWG URL parsing resolves `..`, `.` and
 * their percent-encoded forms (`%2e%2e`), which would turn `/v2/a/%2e%2e/b/...` into a request for
 * repository `b`; routing on the raw path makes such names fail the name grammar instead.
 */
export function requestPath(target: string | undefined): string {
  const path = (target ?? '/').replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/, '');
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

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
