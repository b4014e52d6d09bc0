import { RegistryError } from '../errors.js';
import type { Clock, Counted, MetadataStore, OffsetQuery } from '../ports.js';
import { ProjectGuard, type ProjectRef } from './guard.js';
import { isRoleId, type Member, type RoleId } from './model.js';
import type { Subject } from './policy.js';
import { badRequest, notFound } from './rules.js';
import type { ChangeHook } from './users.js';

/** Who to add: a user by id or by name (Harbor's `member_user`). Groups are not supported. */
export interface MemberTarget {
  userId?: number;
  username?: string;
}

function requireRole(roleId: unknown): RoleId {
  if (!isRoleId(roleId)) throw badRequest('invalid role: must be a built-in project role (1-5)');
  return roleId;
}

/**
 * Project membership. Like Harbor's API, nothing stops a Project Admin from demoting or removing the
 * last Project Admin (system admins can always repair a project).
 */
export class MemberService {
  private readonly guard: ProjectGuard;

  constructor(
    private readonly metadata: MetadataStore,
    clock: Clock,
    private readonly changed: ChangeHook = () => undefined,
  ) {
    this.guard = new ProjectGuard(metadata, clock);
  }

  async list(
    subject: Subject,
    ref: ProjectRef,
    query: OffsetQuery & { entityName?: string },
  ): Promise<Counted<Member>> {
    const { project } = await this.guard.require(subject, ref, 'member:list');
    const all = await this.metadata.members.list(
      project.id,
      query.entityName !== undefined ? { entityName: query.entityName } : undefined,
    );
    return { items: all.slice(query.offset, query.offset + query.limit), total: all.length };
  }

  async get(subject: Subject, ref: ProjectRef, memberId: number): Promise<Member> {
    const { project } = await this.guard.require(subject, ref, 'member:read');
    const member = await this.metadata.members.get(project.id, memberId);
    if (member === undefined) throw notFound(`member ${memberId} not found in project ${project.name}`);
    return member;
  }

  /** Adds a user with a role; 409 when the user is already a member. */
  async add(subject: Subject, ref: ProjectRef, target: MemberTarget, roleId: unknown): Promise<Member> {
    const { project } = await this.guard.require(subject, ref, 'member:create');
    let userId: number;
    if (target.userId !== undefined && target.userId > 0) {
      const user = await this.metadata.users.get(target.userId);
      if (user === undefined) throw badRequest(`user ${target.userId} not found`);
      userId = user.id;
    } else if (target.username !== undefined && target.username !== '') {
      const user = await this.metadata.users.getByName(target.username);
      if (user === undefined) throw notFound(`user ${target.username.slice(0, 255)} not found`);
      userId = user.id;
    } else {
      throw badRequest('member_user with user_id or username must be provided');
    }
    const role = requireRole(roleId);
    const added = await this.metadata.members.add(project.id, userId, role);
    if (!added.ok) throw new RegistryError('CONFLICT', 'The project member specified already exist');
    this.changed();
    return added.value;
  }

  async updateRole(subject: Subject, ref: ProjectRef, memberId: number, roleId: unknown): Promise<void> {
    const { project } = await this.guard.require(subject, ref, 'member:update');
    const role = requireRole(roleId);
    if (!(await this.metadata.members.update(project.id, memberId, role))) {
      throw notFound(`member ${memberId} not found in project ${project.name}`);
    }
    this.changed();
  }

  /** Harbor answers 200 whether or not the member existed. */
  async remove(subject: Subject, ref: ProjectRef, memberId: number): Promise<void> {
    const { project } = await this.guard.require(subject, ref, 'member:delete');
    if (await this.metadata.members.remove(project.id, memberId)) this.changed();
  }
}
