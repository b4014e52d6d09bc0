import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallerAccess } from '../../core/content/access.js';
import type { Registry } from '../../core/content/registry.js';

/** Everything a `/v2` handler needs for one request. */
export interface V2Context {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  registry: Registry;
  access: CallerAccess;
  /** Facts for the request log line (bytes moved, repository). */
  logFields: Record<string, unknown>;
}

/** Ends a response with no body, with explicit headers (Content-Length 0 unless given). */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Length': '0', ...headers });
  res.end();
}

/** 304 Not Modified: the validators only, and no Content-Length (RFC 9110 15.4.5). */
export function sendNotModified(res: ServerResponse, digest: string): void {
  res.writeHead(304, { ETag: `"${digest}"`, 'Docker-Content-Digest': digest });
  res.end();
}

/** Sends JSON with an exact Content-Type (no charset parameter: oras-go compares it byte for byte). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'Content-Type': 'application/json',
    ...headers,
    'Content-Length': String(bytes.length),
  });
  res.end(bytes);
}

export function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

/** A `Link` header for the next page, keeping the client's `n` when it sent one. */
export function nextLink(path: string, n: string | undefined, last: string): string {
  const query = new URLSearchParams();
  if (n !== undefined) query.set('n', n);
  query.set('last', last);
  return `<${path}${path.includes('?') ? '&' : '?'}${query.toString()}>; rel="next"`;
}
