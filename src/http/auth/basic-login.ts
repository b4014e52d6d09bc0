import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LoginResult } from '../../auth/login.js';
import { tokenSubjectOf, type SubjectResolver } from '../../auth/subjects.js';
import type { TokenSubject } from '../../auth/token-service.js';
import type { Clock } from '../../core/ports.js';
import { sourceAddress } from './credentials.js';

export interface BasicLoginOptions {
  login: { login(name: string, secret: string, source: string): Promise<LoginResult> };
  subjects: SubjectResolver;
  clock: Clock;
  /** How long a successful login is remembered (default 5 s, the bound every other access cache keeps), so argon2 does not run per request. */
  cacheMs?: number;
}

const maxEntries = 10_000;

/**
 * Basic credentials sent with every request (on `/v2` and the chart repository): the first one runs the
 * login (argon2, the failed-login limiter); a success is remembered by a hash of the header for 5 s, so a
 * changed password or robot secret stops working on every node within that bound.
 * The subject is still re-read on every hit (through the subject cache), so a disabled robot or a deleted
 * user loses access at once, whatever the cache holds.
 */
export class BasicLogin {
  private readonly cache = new Map<string, { subject: TokenSubject; until: number }>();
  private readonly cacheMs: number;

  constructor(private readonly options: BasicLoginOptions) {
    this.cacheMs = options.cacheMs ?? 5_000;
  }

  async authenticate(req: IncomingMessage, username: string, password: string): Promise<LoginResult> {
    const key = createHash('sha256')
      .update(req.headers.authorization ?? '')
      .digest('base64url');
    const now = this.options.clock.now().getTime();
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.until > now) {
      const subject = await this.options.subjects.resolve(cached.subject);
      if (subject !== undefined) return { ok: true, subject };
    }
    this.cache.delete(key);
    const result = await this.options.login.login(username, password, sourceAddress(req));
    if (result.ok) this.remember(key, tokenSubjectOf(result.subject), now);
    return result;
  }

  private remember(key: string, subject: TokenSubject, now: number): void {
    if (this.cache.size >= maxEntries) {
      for (const [k, entry] of this.cache) if (entry.until <= now) this.cache.delete(k);
      if (this.cache.size >= maxEntries) this.cache.clear();
    }
    this.cache.set(key, { subject, until: now + this.cacheMs });
  }
}
