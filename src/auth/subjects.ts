import { createHash } from 'node:crypto';
import type { IdentityService } from '../core/iam/identity.js';
import { anonymous, type Subject } from '../core/iam/policy.js';
import type { Clock, MetadataStore } from '../core/ports.js';
import type { TokenSubject } from './token-service.js';

/** How a subject is named inside a token. */
export function tokenSubjectOf(subject: Subject): TokenSubject {
  switch (subject.kind) {
    case 'user':
      return { kind: 'user', name: subject.user.username, id: subject.user.id };
    case 'robot':
      return { kind: 'robot', name: subject.robot.name, id: subject.robot.id };
    default:
      return { kind: 'anonymous', name: '' };
  }
}

/** The name written to the request log for a subject (never a secret). */
export function accountOf(subject: Subject): string | undefined {
  return subject.kind === 'anonymous' ? undefined : tokenSubjectOf(subject).name;
}

/**
 * A short fingerprint of the subject's stored password or secret hash. Refresh tokens carry it, so a
 * changed password or a regenerated robot secret ends them. Reveals nothing: it is a hash of a salted hash.
 */
export async function credentialFingerprint(
  metadata: MetadataStore,
  subject: TokenSubject,
): Promise<string | undefined> {
  if (subject.id === undefined) return undefined;
  const stored =
    subject.kind === 'user'
      ? await metadata.users.passwordHash(subject.id)
      : subject.kind === 'robot'
        ? await metadata.robots.secretHash(subject.id)
        : undefined;
  return stored === undefined
    ? undefined
    : createHash('sha256').update(stored).digest('base64url').slice(0, 22);
}

interface Cached {
  subject: Subject | undefined;
  until: number;
}

/**
 * Turns the subject named in a token (or a cached Basic login) back into a current one: a user or robot
 * that was deleted, re-created under the same name, disabled or has expired resolves to undefined. Lookups
 * are cached for `ttlMs` (default 5 s, like AccessService), the bound on how long such a change goes unseen.
 */
export class SubjectResolver {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly identity: IdentityService,
    private readonly clock: Clock,
    private readonly ttlMs = 5_000,
  ) {}

  async resolve(subject: TokenSubject): Promise<Subject | undefined> {
    if (subject.kind === 'anonymous') return anonymous;
    const key = `${subject.kind}:${subject.name}`;
    const now = this.clock.now().getTime();
    let hit = this.cache.get(key);
    if (hit === undefined || hit.until <= now) {
      hit = { subject: await this.identity.refresh(subject.kind, subject.name), until: now + this.ttlMs };
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(key, hit);
    }
    const current = hit.subject;
    if (current === undefined || tokenSubjectOf(current).id !== subject.id) return undefined;
    return current;
  }

  invalidate(): void {
    this.cache.clear();
  }
}
