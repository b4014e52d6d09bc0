import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Subject } from '../../core/iam/policy.js';

/** What the `sid` cookie carries, signed: who signed in, and until when. */
export interface Session {
  kind: 'user' | 'robot';
  name: string;
  id: number;
  /** Random per sign-in; the CSRF token is derived from it. */
  nonce: string;
  issuedAt: number;
  expiresAt: number;
}

export const sessionCookie = 'sid';
export const csrfCookie = '__csrf';
export const csrfHeader = 'x-harbor-csrf-token';

/**
 * Stateless signed sessions (HMAC-SHA256 over the JSON payload, with a key shared by every node through
 * the settings store), so any node can check a cookie that another issued. Sliding expiry: a session
 * past half its lifetime is re-issued on the next request.
 */
export class SessionCodec {
  constructor(
    private readonly key: Buffer,
    readonly ttlMs: number,
  ) {}

  issue(subject: Subject, now: Date): { session: Session; value: string } | undefined {
    if (subject.kind === 'anonymous') return undefined;
    const who = subject.kind === 'user' ? subject.user : subject.robot;
    const name = subject.kind === 'user' ? subject.user.username : subject.robot.name;
    const session: Session = {
      kind: subject.kind,
      name,
      id: who.id,
      nonce: randomBytes(16).toString('base64url'),
      issuedAt: now.getTime(),
      expiresAt: now.getTime() + this.ttlMs,
    };
    return { session, value: this.encode(session) };
  }

  /** Extends a session: same nonce (so the CSRF token stays), new expiry. */
  renew(session: Session, now: Date): { session: Session; value: string } {
    const renewed = { ...session, issuedAt: now.getTime(), expiresAt: now.getTime() + this.ttlMs };
    return { session: renewed, value: this.encode(renewed) };
  }

  needsRenewal(session: Session, now: Date): boolean {
    return session.expiresAt - now.getTime() < this.ttlMs / 2;
  }

  verify(value: string, now: Date): Session | undefined {
    const dot = value.indexOf('.');
    if (dot <= 0 || value.length > 4096) return undefined;
    const payload = value.slice(0, dot);
    if (!safeEqual(value.slice(dot + 1), this.sign(payload))) return undefined;
    let session: unknown;
    try {
      session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!isSession(session) || session.expiresAt <= now.getTime()) return undefined;
    return session;
  }

  /** The double-submit token of a session: sent as the `__csrf` cookie and echoed in the header. */
  csrfToken(session: Session): string {
    return this.sign(`csrf.${session.nonce}`);
  }

  checkCsrf(session: Session, header: string | undefined, cookie: string | undefined): boolean {
    if (header === undefined || cookie === undefined) return false;
    const expected = this.csrfToken(session);
    return safeEqual(header, expected) && safeEqual(cookie, expected);
  }

  private encode(session: Session): string {
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  private sign(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url');
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (v.kind === 'user' || v.kind === 'robot') &&
    typeof v.name === 'string' &&
    typeof v.id === 'number' &&
    typeof v.nonce === 'string' &&
    typeof v.issuedAt === 'number' &&
    typeof v.expiresAt === 'number'
  );
}

/** Cookies of a request (first value of each name). */
export function readCookies(req: IncomingMessage): Map<string, string> {
  const cookies = new Map<string, string>();
  const header = req.headers.cookie;
  if (header === undefined) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

export interface CookieOptions {
  httpOnly: boolean;
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  maxAge?: number;
}

export function cookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/', 'SameSite=Lax'];
  if (options.httpOnly) parts.push('HttpOnly');
  if (options.secure) parts.push('Secure');
  if (options.maxAge !== undefined) parts.push(`Max-Age=${options.maxAge}`);
  return parts.join('; ');
}

/** Whether the client reached Berth over TLS (directly, or as a proxy in front says). */
export function isSecure(req: IncomingMessage): boolean {
  return (
    (req.socket as { encrypted?: boolean }).encrypted === true || req.headers['x-forwarded-proto'] === 'https'
  );
}
