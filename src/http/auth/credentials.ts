import type { IncomingMessage } from 'node:http';

export type Credentials =
  | { scheme: 'none' }
  | { scheme: 'basic'; username: string; password: string }
  | { scheme: 'bearer'; token: string }
  /** A header that is present but unusable (unknown scheme, bad encoding). */
  | { scheme: 'invalid' };

/** Reads the `Authorization` header. Never throws; the values must not be logged. */
export function readCredentials(req: IncomingMessage): Credentials {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') return { scheme: 'none' };
  const match = /^([A-Za-z]+) +(\S+) *$/.exec(header);
  if (match === null) return { scheme: 'invalid' };
  const scheme = match[1]!.toLowerCase();
  const value = match[2]!;
  if (scheme === 'bearer') return { scheme: 'bearer', token: value };
  if (scheme !== 'basic') return { scheme: 'invalid' };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return { scheme: 'invalid' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return { scheme: 'invalid' };
  return { scheme: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The peer address, the key of the per-address login limit. Proxy headers are not trusted. */
export function sourceAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

const hostPattern = /^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$/;

/**
 * Berth's own base URL as clients reach it: the configured external URL, else derived from the request's
 * `Host` (and `X-Forwarded-Proto` when it says http or https). A malformed Host falls back to localhost,
 * so nothing from it can break out of the challenge header.
 */
export function externalBase(req: IncomingMessage, configured: string | undefined): string {
  if (configured !== undefined) return configured.replace(/\/+$/, '');
  const host =
    req.headers.host !== undefined && hostPattern.test(req.headers.host) ? req.headers.host : 'localhost';
  const forwarded = req.headers['x-forwarded-proto'];
  const proto =
    forwarded === 'https' || forwarded === 'http'
      ? forwarded
      : (req.socket as { encrypted?: boolean }).encrypted === true
        ? 'https'
        : 'http';
  return `${proto}://${host}`;
}
