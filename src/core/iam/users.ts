import { RegistryError } from '../errors.js';
import type { Clock, Counted, MetadataStore, OffsetQuery, PasswordHasher } from '../ports.js';
import { denied, requireSystem } from './guard.js';
import type { User } from './model.js';
import { mayManageUser, type Subject } from './policy.js';
import { notFound, requireProfile, requireStrongSecret, requireUsername, type Profile } from './rules.js';

export interface NewUserInput {
  username: string;
  password: string;
  email: string;
  realname?: string;
  comment?: string;
}

export interface PasswordChange {
  oldPassword?: string;
  newPassword: string;
}

/** Called after every write that can change what someone may do, so that caches can be dropped. */
export type ChangeHook = () => void;

/**
 * Local user accounts, as Harbor's DB auth mode keeps them: system admins create, list and delete users;
 * everyone reads and edits their own profile and password.
 */
export class UserService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly changed: ChangeHook = () => undefined,
  ) {}

  async create(subject: Subject, input: NewUserInput): Promise<User> {
    requireSystem(subject, 'user:manage', 'only system admins can create users');
    const username = requireUsername(input.username);
    const profile = requireProfile({
      email: input.email,
      realname: input.realname ?? username,
      comment: input.comment ?? '',
    });
    requireStrongSecret(input.password);
    const existing = await this.metadata.users.getByName(username);
    if (existing !== undefined) throw new RegistryError('CONFLICT', `user ${username} already exists`);
    const passwordHash = await this.hasher.hash(input.password);
    const created = await this.metadata.users.create(
      { username, ...profile, sysadmin: false, passwordHash },
      this.clock.now(),
    );
    if (!created.ok) throw new RegistryError('CONFLICT', `user ${username} or its email already exists`);
    return created.value;
  }

  list(subject: Subject, query: OffsetQuery & { q?: string }): Promise<Counted<User>> {
    requireSystem(subject, 'user:manage', 'only system admins can list users');
    return this.metadata.users.list(query);
  }

  /** Harbor's `/users/search`: any signed-in caller may look users up by name (to add members). */
  search(subject: Subject, username: string, query: OffsetQuery): Promise<Counted<User>> {
    if (subject.kind === 'anonymous') throw denied(subject);
    return this.metadata.users.list({ ...query, q: username });
  }

  /** The signed-in user. Robots have no user profile (Harbor answers 412 for them). */
  current(subject: Subject): Promise<User> {
    if (subject.kind === 'anonymous') throw denied(subject);
    if (subject.kind === 'robot') {
      throw new RegistryError('PRECONDITION_FAILED', 'get current user not available for robot accounts');
    }
    return this.get(subject, subject.user.id);
  }

  async get(subject: Subject, id: number): Promise<User> {
    if (!mayManageUser(subject, id)) throw denied(subject, `not authorized to read user ${id}`);
    return this.load(id);
  }

  /** Changes e-mail, real name and comment; fields left out keep their value. */
  async updateProfile(subject: Subject, id: number, patch: Partial<Profile>): Promise<User> {
    if (!mayManageUser(subject, id)) throw denied(subject, `user with ID ${id} can't be updated`);
    const user = await this.load(id);
    const profile = requireProfile({
      email: patch.email ?? user.email,
      realname: patch.realname ?? user.realname,
      comment: patch.comment ?? user.comment,
    });
    const updated = await this.metadata.users.update(id, profile, this.clock.now());
    if (updated === undefined) throw notFound(`user ${id} not found`);
    return updated;
  }

  /**
   * Users changing their own password must give the current one (system admins included, as in Harbor);
   * a system admin resetting someone else's does not. The new password must differ from the old one.
   */
  async changePassword(subject: Subject, id: number, change: PasswordChange): Promise<void> {
    if (!mayManageUser(subject, id)) throw denied(subject, `user with ID ${id} can't be updated`);
    await this.load(id);
    const stored = await this.metadata.users.passwordHash(id);
    if (stored === undefined) throw notFound(`user ${id} not found`);
    const self = subject.kind === 'user' && subject.user.id === id;
    if (self && !(await this.hasher.verify(stored, change.oldPassword ?? ''))) {
      throw new RegistryError('DENIED', 'current password is incorrect');
    }
    requireStrongSecret(change.newPassword);
    if (await this.hasher.verify(stored, change.newPassword)) {
      throw new RegistryError('BAD_REQUEST', 'new password is identical to old password');
    }
    const passwordHash = await this.hasher.hash(change.newPassword);
    await this.metadata.users.update(id, { passwordHash }, this.clock.now());
    this.changed();
  }

  async setSysadmin(subject: Subject, id: number, sysadmin: boolean): Promise<void> {
    requireSystem(subject, 'user:manage', 'only system admins can change the admin flag');
    const updated = await this.metadata.users.update(id, { sysadmin }, this.clock.now());
    if (updated === undefined) throw notFound(`user ${id} not found`);
    this.changed();
  }

  /** Harbor's rule: nobody deletes themselves, and user 1 (the first admin) cannot be deleted. */
  async delete(subject: Subject, id: number): Promise<void> {
    requireSystem(subject, 'user:manage', 'not authorized to delete users');
    if ((subject.kind === 'user' && subject.user.id === id) || id === 1) {
      throw new RegistryError('DENIED', `user with ID ${id} cannot be deleted`);
    }
    if (!(await this.metadata.users.delete(id))) throw notFound(`user ${id} not found`);
    this.changed();
  }

  private async load(id: number): Promise<User> {
    const user = await this.metadata.users.get(id);
    if (user === undefined) throw notFound(`user ${id} not found`);
    return user;
  }
}
