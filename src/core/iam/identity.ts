import type { Clock, MetadataStore, PasswordHasher } from '../ports.js';
import { isActiveRobot, type Subject } from './policy.js';
import { robotPrefix } from './model.js';

export type Authentication = { ok: true; subject: Subject } | { ok: false };

/**
 * Turns a name and a password (or robot secret) into a subject. Robots log in with their full name
 * (`robot$...`); a disabled or expired robot cannot. The answer never tells whether the name exists.
 */
export class IdentityService {
  // A fixed hash to verify against when the name is unknown, so both paths cost one argon2 verify.
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
  ) {}

  async authenticate(name: string, secret: string): Promise<Authentication> {
    if (name.startsWith(robotPrefix)) {
      const robot = await this.metadata.robots.getByName(name);
      const hash = robot === undefined ? undefined : await this.metadata.robots.secretHash(robot.id);
      const verified = await this.verify(hash, secret);
      if (robot === undefined || !verified || !isActiveRobot(robot, this.clock.now())) return { ok: false };
      return { ok: true, subject: { kind: 'robot', robot } };
    }
    const user = await this.metadata.users.getByName(name);
    const hash = user === undefined ? undefined : await this.metadata.users.passwordHash(user.id);
    const verified = await this.verify(hash, secret);
    if (user === undefined || !verified) return { ok: false };
    return { ok: true, subject: { kind: 'user', user } };
  }

  /**
   * Re-reads a subject named in a token, so that a robot disabled, expired or deleted, or a user
   * deleted or demoted, loses access on the next request rather than when the token runs out.
   */
  async refresh(kind: 'user' | 'robot', name: string): Promise<Subject | undefined> {
    if (kind === 'robot') {
      const robot = await this.metadata.robots.getByName(name);
      return robot !== undefined && isActiveRobot(robot, this.clock.now())
        ? { kind: 'robot', robot }
        : undefined;
    }
    const user = await this.metadata.users.getByName(name);
    return user === undefined ? undefined : { kind: 'user', user };
  }

  private async verify(hash: string | undefined, secret: string): Promise<boolean> {
    if (hash !== undefined) return this.hasher.verify(hash, secret);
    this.dummyHash ??= this.hasher.hash('berth-timing-equaliser');
    await this.hasher.verify(await this.dummyHash, secret);
    return false;
  }
}
