import type { IdentityService } from '../core/iam/identity.js';
import type { LoginLimiter } from '../core/iam/login-limiter.js';
import type { Subject } from '../core/iam/policy.js';

export type LoginResult =
  | { ok: true; subject: Subject }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'limited'; retryAfterSeconds: number };

/** Longest name and secret considered; longer ones fail like a wrong password (and count as failures). */
const maxNameChars = 256;
const maxSecretChars = 4096;

/**
 * Name-and-password logins (token endpoint and Basic on `/v2`) behind the per-account and per-address
 * limiter. Unknown and known names take the same path and the same time, and are limited alike.
 */
export class LoginService {
  constructor(
    private readonly identity: IdentityService,
    private readonly limiter: LoginLimiter,
  ) {}

  async login(name: string, secret: string, source: string): Promise<LoginResult> {
    const account = name.slice(0, maxNameChars);
    const decision = this.limiter.check(account, source);
    if (!decision.allowed)
      return { ok: false, reason: 'limited', retryAfterSeconds: decision.retryAfterSeconds };
    const result =
      name.length <= maxNameChars && secret.length <= maxSecretChars && name !== ''
        ? await this.identity.authenticate(name, secret)
        : { ok: false as const };
    if (!result.ok) {
      this.limiter.recordFailure(account, source);
      return { ok: false, reason: 'invalid' };
    }
    this.limiter.recordSuccess(account);
    return result;
  }
}
