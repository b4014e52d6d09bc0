import type { Clock } from '../ports.js';

export interface LimiterOptions {
  /** Failures allowed within the window before further attempts are refused. */
  maxFailures: number;
  windowMs: number;
  /** How long attempts are refused once the limit is reached. */
  lockoutMs: number;
}

export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Entry {
  failures: number[];
  lockedUntil: number;
}

/**
 * Counts failed logins per account and per source address, and refuses further attempts for a while
 * once either has too many. Unknown and known accounts are counted alike, so it reveals nothing.
 * Memory is bounded by pruning entries whose window has passed.
 */
export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly options: LimiterOptions = { maxFailures: 10, windowMs: 5 * 60_000, lockoutMs: 60_000 },
  ) {}

  check(account: string, source: string): LimitDecision {
    const now = this.clock.now().getTime();
    let wait = 0;
    for (const key of this.keys(account, source)) {
      const entry = this.entries.get(key);
      if (entry !== undefined && entry.lockedUntil > now) wait = Math.max(wait, entry.lockedUntil - now);
    }
    return wait > 0 ? { allowed: false, retryAfterSeconds: Math.ceil(wait / 1000) } : { allowed: true };
  }

  recordFailure(account: string, source: string): void {
    const now = this.clock.now().getTime();
    for (const key of this.keys(account, source)) {
      const entry = this.entries.get(key) ?? { failures: [], lockedUntil: 0 };
      entry.failures = entry.failures.filter((t) => t > now - this.options.windowMs);
      entry.failures.push(now);
      if (entry.failures.length >= this.options.maxFailures) entry.lockedUntil = now + this.options.lockoutMs;
      this.entries.set(key, entry);
    }
    if (this.entries.size > 10_000) this.prune(now);
  }

  recordSuccess(account: string): void {
    this.entries.delete(`account:${account}`);
  }

  private keys(account: string, source: string): string[] {
    return [`account:${account}`, `source:${source}`];
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.lockedUntil <= now && entry.failures.every((t) => t <= now - this.options.windowMs))
        this.entries.delete(key);
    }
  }
}
