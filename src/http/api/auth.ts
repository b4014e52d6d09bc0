import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { anonymous, type Subject } from '../../core/iam/policy.js';
import type { Clock } from '../../core/ports.js';
import { readCredentials, sourceAddress } from '../auth/credentials.js';
import { ApiError } from './errors.js';
import {
  csrfCookie,
  csrfHeader,
  readCookies,
  sessionCookie,
  type Session,
  type SessionCodec,
} from './session.js';

export type LoginOutcome =
  | { ok: true; subject: Subject }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'limited'; retryAfterSeconds: number };

/** Name-and-password logins behind the login limiter (the auth module's LoginService). */
export interface LoginPort {
  login(name: string, secret: string, source: string): Promise<LoginOutcome>;
}

/** Re-reads a signed-in subject, so that a deleted user or a disabled robot loses access at once. */
export interface SubjectRefresher {
  refresh(kind: 'user' | 'robot', name: string): Promise<Subject | undefined>;
}

export interface Caller {
  subject: Subject;
  via: 'anonymous' | 'basic' | 'session';
  session?: Session;
}

interface CachedLogin {
  kind: 'user' | 'robot';
  name: string;
  id: number;
  until: number;
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Who is calling the management API: Basic credentials (checked through the login limiter), else the
 * signed `sid` session cookie, else anonymous. A verified Basic login is remembered for a few seconds,
 * keyed by an HMAC of the credentials under a per-process key, so that a script making many calls does
 * not pay one argon2 verification per call; writes through the API clear it.
 */
export class ApiAuthenticator {
  private readonly basicCache = new Map<string, CachedLogin>();
  private readonly cacheKey = randomBytes(32);

  constructor(
    private readonly login: LoginPort,
    private readonly identity: SubjectRefresher,
    private readonly sessions: () => Promise<SessionCodec>,
    private readonly clock: Clock,
    private readonly basicTtlMs = 10_000,
  ) {}

  async authenticate(req: IncomingMessage): Promise<Caller> {
    const credentials = readCredentials(req);
    if (credentials.scheme === 'basic') {
      return { subject: await this.basic(credentials.username, credentials.password, req), via: 'basic' };
    }
    if (credentials.scheme !== 'none') {
      throw new ApiError('UNAUTHORIZED', 'unsupported or malformed Authorization header');
    }
    const value = readCookies(req).get(sessionCookie);
    if (value !== undefined) {
      const session = (await this.sessions()).verify(value, this.clock.now());
      const subject =
        session === undefined ? undefined : await this.identity.refresh(session.kind, session.name);
      if (session !== undefined && subject !== undefined && idOf(subject) === session.id) {
        return { subject, via: 'session', session };
      }
    }
    return { subject: anonymous, via: 'anonymous' };
  }

  /** Double-submit CSRF check for writes made with a session cookie (Basic callers are exempt). */
  async checkCsrf(req: IncomingMessage, caller: Caller): Promise<void> {
    if (caller.via !== 'session' || caller.session === undefined || !unsafeMethods.has(req.method ?? ''))
      return;
    const header = req.headers[csrfHeader];
    const token = Array.isArray(header) ? header[0] : header;
    if (!(await this.sessions()).checkCsrf(caller.session, token, readCookies(req).get(csrfCookie))) {
      throw new ApiError('FORBIDDEN', 'CSRF token invalid');
    }
  }

  /** Logs in for a session (`/c/login`), with the same limiter as Basic. */
  async password(name: string, secret: string, req: IncomingMessage): Promise<Subject> {
    const result = await this.login.login(name, secret, sourceAddress(req));
    if (result.ok) return result.subject;
    if (result.reason === 'limited') {
      throw new ApiError('TOO_MANY_REQUEST', 'too many failed logins; try again later', {
        'Retry-After': String(result.retryAfterSeconds),
      });
    }
    throw new ApiError('UNAUTHORIZED', 'invalid username or password');
  }

  /** Forgets remembered Basic logins (after a password, secret, role or account change). */
  invalidate(): void {
    this.basicCache.clear();
  }

  private async basic(name: string, secret: string, req: IncomingMessage): Promise<Subject> {
    const key = createHmac('sha256', this.cacheKey)
      .update(name)
      .update('\u0000')
      .update(secret)
      .digest('base64');
    const now = this.clock.now().getTime();
    const hit = this.basicCache.get(key);
    if (hit !== undefined && hit.until > now) {
      const subject = await this.identity.refresh(hit.kind, hit.name);
      if (subject !== undefined && idOf(subject) === hit.id) return subject;
      this.basicCache.delete(key);
    }
    const subject = await this.password(name, secret, req);
    if (subject.kind !== 'anonymous') {
      if (this.basicCache.size >= 10_000) this.basicCache.clear();
      const entry: CachedLogin =
        subject.kind === 'user'
          ? { kind: 'user', name: subject.user.username, id: subject.user.id, until: now + this.basicTtlMs }
          : { kind: 'robot', name: subject.robot.name, id: subject.robot.id, until: now + this.basicTtlMs };
      this.basicCache.set(key, entry);
    }
    return subject;
  }
}

function idOf(subject: Subject): number | undefined {
  return subject.kind === 'user' ? subject.user.id : subject.kind === 'robot' ? subject.robot.id : undefined;
}
