import { RegistryError } from '../errors.js';
import type { Clock, Counted, MetadataStore, OffsetQuery, PasswordHasher } from '../ports.js';
import { ProjectGuard, requireSystem, type ProjectRef } from './guard.js';
import { robotFullName, robotPrefix, type Project, type Robot, type RobotPermission } from './model.js';
import type { ProjectPermission } from './permissions.js';
import { projectPermissionsOf, type Subject } from './policy.js';
import { badRequest, generateSecret, notFound, requireRobotName, requireStrongSecret } from './rules.js';
import type { ChangeHook } from './users.js';

/** A robot as a client describes it (Harbor's RobotCreate / Robot bodies). */
export interface RobotInput {
  name: string;
  description?: string;
  level: string;
  disable?: boolean;
  /** Days; -1 never expires, 0 means the default. */
  duration?: number;
  permissions: {
    kind: string;
    namespace: string;
    access: { resource: string; action: string; effect?: string }[];
  }[];
}

export interface CreatedRobot {
  robot: Robot;
  /** Shown once; only its hash is stored. */
  secret: string;
}

export interface RobotServiceOptions {
  /** Validity of a robot created with duration 0 (Harbor's `robot_token_duration`, 30 days). */
  defaultDurationDays: number;
}

type RobotAction = 'read' | 'list' | 'create' | 'update' | 'delete';

const dayMs = 86_400_000;
const maxDurationDays = 365_000;

/**
 * Robot accounts. System-level robots (`robot$<name>`) are managed by system admins and may hold grants in
 * several projects (or `*`); project-level robots (`robot$<project>+<name>`) by whoever may manage robots
 * in their one project, and never with more than that person holds there.
 */
export class RobotService {
  private readonly guard: ProjectGuard;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly changed: ChangeHook = () => undefined,
    private readonly options: RobotServiceOptions = { defaultDurationDays: 30 },
  ) {
    this.guard = new ProjectGuard(metadata, clock);
  }

  async create(subject: Subject, input: RobotInput): Promise<CreatedRobot> {
    const name = requireRobotName(input.name);
    const level = requireLevel(input.level);
    const duration = this.requireDuration(input.duration ?? -1);
    const { permissions, project } = await this.checkGrants(subject, level, input.permissions, 'create');
    const now = this.clock.now();
    const secret = generateSecret();
    const expiresAt = this.expiry(now, duration);
    const created = await this.metadata.robots.create(
      {
        name: robotFullName(level, name, project?.name),
        description: input.description ?? '',
        level,
        ...(project !== undefined && { projectId: project.id }),
        disabled: input.disable ?? false,
        duration,
        ...(expiresAt !== undefined && { expiresAt }),
        permissions,
        secretHash: await this.hasher.hash(secret),
      },
      now,
    );
    if (!created.ok) throw new RegistryError('CONFLICT', `robot account ${name} already exists`);
    return { robot: created.value, secret };
  }

  async get(subject: Subject, id: number): Promise<Robot> {
    const robot = await this.load(id);
    await this.authorize(subject, robot, 'read');
    return robot;
  }

  /** Harbor's `GET /robots`: system robots, or a project's with `level: project` and its id. */
  async list(
    subject: Subject,
    query: OffsetQuery & { level?: string; projectId?: number; q?: string },
  ): Promise<Counted<Robot>> {
    const level = requireLevel(query.level ?? 'system');
    if (level === 'project') {
      if (query.projectId === undefined)
        throw badRequest('must with project ID when to query project robots');
      return this.listInProject(subject, { by: 'id', id: query.projectId }, query);
    }
    requireSystem(subject, 'robot:manage-system', 'only system admins can list system robots');
    return this.metadata.robots.list({ ...page(query), level: 'system' });
  }

  async listInProject(
    subject: Subject,
    ref: ProjectRef,
    query: OffsetQuery & { q?: string },
  ): Promise<Counted<Robot>> {
    const { project } = await this.guard.require(subject, ref, 'robot:list');
    return this.metadata.robots.list({ ...page(query), level: 'project', projectId: project.id });
  }

  /** Harbor's PUT: name and level are fixed; description, disable, duration and permissions change. */
  async update(subject: Subject, id: number, input: RobotInput): Promise<Robot> {
    const robot = await this.load(id);
    await this.authorize(subject, robot, 'update');
    const level = requireLevel(input.level);
    if (level !== robot.level || !sameName(robot, input.name)) {
      throw badRequest('cannot update the level or name of robot');
    }
    const duration = this.requireDuration(input.duration ?? robot.duration);
    const { permissions, project } = await this.checkGrants(subject, level, input.permissions, 'update');
    if (level === 'project' && project?.id !== robot.projectId) {
      throw badRequest('a project robot cannot move to another project');
    }
    const patch: Parameters<MetadataStore['robots']['update']>[1] = {
      description: input.description ?? robot.description,
      disabled: input.disable ?? robot.disabled,
      permissions,
    };
    if (duration !== robot.duration) {
      patch.duration = duration;
      patch.expiresAt = this.expiry(robot.createdAt, duration) ?? null;
    }
    const updated = await this.metadata.robots.update(id, patch, this.clock.now());
    if (updated === undefined) throw notFound(`robot ${id} not found`);
    this.changed();
    return updated;
  }

  async delete(subject: Subject, id: number): Promise<void> {
    const robot = await this.load(id);
    await this.authorize(subject, robot, 'delete');
    if (!(await this.metadata.robots.delete(id))) throw notFound(`robot ${id} not found`);
    this.changed();
  }

  /** Sets the given secret (Harbor's rule applies) or a generated one, and returns it this once. */
  async refreshSecret(subject: Subject, id: number, given?: string): Promise<string> {
    const robot = await this.load(id);
    await this.authorize(subject, robot, 'update');
    const secret = given !== undefined && given !== '' ? requireStrongSecret(given) : generateSecret();
    await this.metadata.robots.update(id, { secretHash: await this.hasher.hash(secret) }, this.clock.now());
    this.changed();
    return secret;
  }

  private async load(id: number): Promise<Robot> {
    const robot = await this.metadata.robots.get(id);
    if (robot === undefined) throw notFound(`robot ${id} not found`);
    return robot;
  }

  private async authorize(subject: Subject, robot: Robot, action: RobotAction): Promise<void> {
    if (robot.level === 'system' || robot.projectId === undefined) {
      requireSystem(subject, 'robot:manage-system');
      return;
    }
    await this.guard.require(subject, { by: 'id', id: robot.projectId }, `robot:${action}`);
  }

  /**
   * Validates grants (Harbor's shape rules), checks that the caller may manage robots where they apply
   * and holds every permission it hands out, and returns them with the project of a project robot.
   */
  private async checkGrants(
    subject: Subject,
    level: 'system' | 'project',
    grants: RobotInput['permissions'],
    action: 'create' | 'update',
  ): Promise<{ permissions: RobotPermission[]; project?: Project }> {
    if (grants.length === 0) throw badRequest('bad request empty permission');
    if (level === 'project' && grants.length > 1)
      throw badRequest('a project robot has exactly one permission');
    if (level === 'system')
      requireSystem(subject, 'robot:manage-system', 'only system admins manage system robots');
    const permissions: RobotPermission[] = [];
    let project: Project | undefined;
    for (const grant of grants) {
      if (grant.kind !== 'project')
        throw badRequest(`permission kind ${grant.kind.slice(0, 50)} is not supported`);
      if (grant.access.length === 0) throw badRequest('bad request empty access');
      const access = grant.access.map((a): RobotPermission['access'][number] => {
        const { resource, action, effect } = a;
        if (effect === undefined) return { resource, action };
        if (effect !== 'allow' && effect !== 'deny')
          throw badRequest(`invalid effect ${effect.slice(0, 50)}`);
        return { resource, action, effect };
      });
      const permission: RobotPermission = { kind: 'project', namespace: grant.namespace, access };
      if (grant.namespace === '*') {
        if (level === 'project') throw badRequest('a project robot must name its project');
        this.checkVocabulary(permission);
      } else {
        const target = await this.guard.load({ by: 'name', name: grant.namespace });
        if (level === 'project') {
          const { permissions: held } = await this.guard.require(subject, target, `robot:${action}`);
          this.checkVocabulary(permission, target);
          for (const p of this.granted(permission, target)) {
            if (!held.has(p))
              throw new RegistryError('DENIED', `cannot grant ${p}, which the caller does not hold`);
          }
          project = target;
        } else {
          this.checkVocabulary(permission, target);
        }
      }
      permissions.push(permission);
    }
    return project === undefined ? { permissions } : { permissions, project };
  }

  /** Every `resource:action` must name at least one permission Berth knows (`*` allowed). */
  private checkVocabulary(permission: RobotPermission, project?: Project): void {
    for (const access of permission.access) {
      const single: RobotPermission = {
        ...permission,
        namespace: '*',
        access: [{ ...access, effect: 'allow' }],
      };
      if (this.granted(single, project).size === 0) {
        throw badRequest(`unknown permission ${access.resource.slice(0, 50)}:${access.action.slice(0, 50)}`);
      }
    }
  }

  /** What the policy would let a robot holding only `permission` do in `project` (a private one by default). */
  private granted(permission: RobotPermission, project?: Project): Set<ProjectPermission> {
    const now = this.clock.now();
    const target: Project = project ?? {
      id: 0,
      name: permission.namespace === '*' ? 'x' : permission.namespace,
      ownerId: 0,
      public: false,
      metadata: {},
      storageLimit: -1,
      createdAt: now,
      updatedAt: now,
    };
    const draft: Robot = {
      id: 0,
      name: `${robotPrefix}draft`,
      description: '',
      level: 'system',
      disabled: false,
      duration: -1,
      permissions: [permission],
      createdAt: now,
      updatedAt: now,
    };
    return projectPermissionsOf(
      { kind: 'robot', robot: draft },
      { project: { ...target, public: false } },
      now,
    );
  }

  private requireDuration(duration: number): number {
    if (!Number.isSafeInteger(duration) || duration < -1 || duration > maxDurationDays) {
      throw badRequest(`bad request error duration input: ${duration}`);
    }
    return duration === 0 ? this.options.defaultDurationDays : duration;
  }

  private expiry(from: Date, duration: number): Date | undefined {
    return duration === -1 ? undefined : new Date(from.getTime() + duration * dayMs);
  }
}

function requireLevel(level: string): 'system' | 'project' {
  if (level !== 'system' && level !== 'project')
    throw badRequest(`bad request error level input: ${level.slice(0, 50)}`);
  return level;
}

/** Harbor sends back the full name (`robot$...`); the short name is accepted too. */
function sameName(robot: Robot, name: string): boolean {
  if (name === robot.name) return true;
  const short = robot.name.slice(robotPrefix.length);
  return name === short || name === short.slice(short.indexOf('+') + 1);
}

function page(query: OffsetQuery & { q?: string }): OffsetQuery & { q?: string } {
  return { offset: query.offset, limit: query.limit, ...(query.q !== undefined && { q: query.q }) };
}
