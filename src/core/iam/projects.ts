import { RegistryError } from '../errors.js';
import type { Clock, Counted, MetadataStore, OffsetQuery, ProjectQuery } from '../ports.js';
import { ProjectGuard, denied, type ProjectRef } from './guard.js';
import { roles, type Project, type ProjectMetadata, type RoleId } from './model.js';
import { normaliseMetadata } from './project-metadata.js';
import { isSystemAdmin, maySystem, projectPermissionsOf, type Subject } from './policy.js';
import { badRequest, requireProjectName } from './rules.js';
import type { ChangeHook } from './users.js';

export interface ProjectInput {
  name: string;
  public?: boolean;
  metadata?: Record<string, string>;
  /** Bytes; -1 (or 0, Harbor's "default") is unlimited. Only system admins may set it. */
  storageLimit?: number;
}

export interface ProjectPatch {
  public?: boolean;
  metadata?: Record<string, string>;
  storageLimit?: number;
}

export interface ProjectListQuery extends OffsetQuery {
  /** Exact name. */
  name?: string;
  /** Name substring. */
  q?: string;
  public?: boolean;
}

/** A project as the caller sees it. */
export interface ProjectDetails {
  project: Project;
  ownerName?: string;
  repoCount: number;
  /** The caller's role as a member, if any. */
  roleId?: RoleId;
  /** Whether the caller may change the project's settings (Harbor's `togglable`). */
  togglable: boolean;
}

export interface ProjectSummary {
  repoCount: number;
  /** Members per role; present when the caller may list members. */
  members?: Record<RoleId, number>;
  /** Present when the caller may read the quota; `used` counts each blob once per project. */
  quota?: { hard: number; used: number };
}

/** Harbor's upper bound for a storage quota: 1024 TiB. */
const maxStorageLimit = 1024 ** 5;

function requireStorageLimit(value: number): number {
  if (!Number.isSafeInteger(value) || value < -1 || value > maxStorageLimit) {
    throw badRequest('storage_limit must be -1 (unlimited) or a number of bytes up to 1024 TiB');
  }
  return value === 0 ? -1 : value;
}

/** Projects: creation (the creator becomes Project Admin), lookup, listing, settings, summary, deletion. */
export class ProjectService {
  private readonly guard: ProjectGuard;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
    private readonly changed: ChangeHook = () => undefined,
  ) {
    this.guard = new ProjectGuard(metadata, clock);
  }

  async create(subject: Subject, input: ProjectInput): Promise<Project> {
    if (!maySystem(subject, 'project:create') || subject.kind !== 'user') {
      throw denied(subject, 'only users can create projects');
    }
    const creator = subject.user;
    const name = requireProjectName(input.name);
    const metadata: ProjectMetadata = normaliseMetadata(input.metadata ?? {});
    const isPublic = metadata.public !== undefined ? metadata.public === 'true' : (input.public ?? false);
    metadata.public = String(isPublic);
    // As in Harbor, a storage limit sent by someone who is not a system admin is replaced by the default.
    const storageLimit =
      input.storageLimit !== undefined && isSystemAdmin(subject)
        ? requireStorageLimit(input.storageLimit)
        : -1;
    const now = this.clock.now();
    const project = await this.metadata.transaction(async (tx) => {
      const created = await tx.projects.create(
        { name, ownerId: creator.id, public: isPublic, metadata, storageLimit },
        now,
      );
      if (!created.ok) throw new RegistryError('CONFLICT', `The project named ${name} already exists`);
      const member = await tx.members.add(created.value.id, creator.id, roles.projectAdmin);
      if (!member.ok) throw new RegistryError('CONFLICT', `user ${creator.username} is already a member`);
      return created.value;
    });
    this.changed();
    return project;
  }

  /** HEAD `/projects?project_name=`: resolves when the project exists and the caller may see it. */
  async exists(subject: Subject, name: string): Promise<void> {
    await this.guard.require(subject, { by: 'name', name }, 'project:read');
  }

  async get(subject: Subject, ref: ProjectRef): Promise<ProjectDetails> {
    const { project } = await this.guard.require(subject, ref, 'project:read');
    return this.details(subject, project, new Map());
  }

  /**
   * Projects the caller may see: all for system admins, public ones and their own for users, public
   * ones and those named in its grants for robots, public ones for anonymous callers.
   */
  async list(subject: Subject, query: ProjectListQuery): Promise<Counted<ProjectDetails>> {
    const page = await this.visible(subject, query);
    const owners = new Map<number, string | undefined>();
    const items: ProjectDetails[] = [];
    for (const project of page.items) items.push(await this.details(subject, project, owners));
    return { items, total: page.total };
  }

  /** The projects `list` shows, without the per-project details. */
  async visible(subject: Subject, query: ProjectListQuery): Promise<Counted<Project>> {
    const filter: ProjectQuery = { offset: query.offset, limit: query.limit };
    if (query.name !== undefined) filter.name = query.name;
    if (query.q !== undefined) filter.q = query.q;
    if (query.public !== undefined) filter.public = query.public;
    let page: Counted<Project>;
    if (isSystemAdmin(subject)) {
      page = await this.metadata.projects.list(filter);
    } else if (subject.kind === 'user') {
      page = await this.metadata.projects.list({ ...filter, visibleTo: subject.user.id });
    } else if (subject.kind === 'robot') {
      page = await this.listForRobot(subject, filter);
    } else {
      if (query.public === false) return { items: [], total: 0 };
      page = await this.metadata.projects.list({ ...filter, public: true });
    }
    return page;
  }

  async update(subject: Subject, ref: ProjectRef, patch: ProjectPatch): Promise<Project> {
    const { project } = await this.guard.require(subject, ref, 'project:update');
    const update: { public?: boolean; metadata?: ProjectMetadata; storageLimit?: number } = {};
    if (patch.metadata !== undefined) update.metadata = normaliseMetadata(patch.metadata);
    const isPublic = update.metadata?.public !== undefined ? update.metadata.public === 'true' : patch.public;
    if (isPublic !== undefined) {
      update.public = isPublic;
      update.metadata = { ...update.metadata, public: String(isPublic) };
    }
    if (patch.storageLimit !== undefined) {
      const limit = requireStorageLimit(patch.storageLimit);
      if (limit !== project.storageLimit && !isSystemAdmin(subject)) {
        throw denied(subject, 'only system admins can change the storage limit');
      }
      update.storageLimit = limit;
    }
    const updated = await this.metadata.projects.update(project.id, update, this.clock.now());
    if (updated === undefined) throw new RegistryError('NOT_FOUND', `project ${project.name} not found`);
    if (update.public !== undefined) this.changed();
    return updated;
  }

  /** Refused with PRECONDITION_FAILED (412) while the project holds repositories, as in Harbor. */
  async delete(subject: Subject, ref: ProjectRef): Promise<void> {
    const { project } = await this.guard.require(subject, ref, 'project:delete');
    if ((await this.repoCount(project)) > 0) {
      throw new RegistryError('PRECONDITION_FAILED', 'the project contains repositories, can not be deleted');
    }
    await this.metadata.projects.delete(project.id);
    this.changed();
  }

  async summary(subject: Subject, ref: ProjectRef): Promise<ProjectSummary> {
    const { project, permissions } = await this.guard.require(subject, ref, 'project:read');
    const summary: ProjectSummary = { repoCount: await this.repoCount(project) };
    if (permissions.has('member:list')) {
      const counts: Record<RoleId, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
      for (const member of await this.metadata.members.list(project.id)) counts[member.roleId] += 1;
      summary.members = counts;
    }
    if (permissions.has('quota:read'))
      summary.quota = { hard: project.storageLimit, used: await this.metadata.quotas.usage(project.name) };
    return summary;
  }

  private async details(
    subject: Subject,
    project: Project,
    owners: Map<number, string | undefined>,
  ): Promise<ProjectDetails> {
    const access = await this.guard.access(subject, project);
    if (!owners.has(project.ownerId))
      owners.set(project.ownerId, (await this.metadata.users.get(project.ownerId))?.username);
    const details: ProjectDetails = {
      project,
      repoCount: await this.repoCount(project),
      togglable: access.permissions.has('project:update'),
    };
    const ownerName = owners.get(project.ownerId);
    if (ownerName !== undefined) details.ownerName = ownerName;
    if (access.context.memberRole !== undefined) details.roleId = access.context.memberRole;
    return details;
  }

  private async repoCount(project: Project): Promise<number> {
    return (await this.metadata.repositories.listInProject(project.name, { offset: 0, limit: 1 })).total;
  }

  /**
   * Robots see public projects and those their grants name (as in Harbor). The store cannot filter by
   * grants, so the projects are read in batches and filtered here.
   */
  private async listForRobot(subject: Subject, filter: ProjectQuery): Promise<Counted<Project>> {
    const visible: Project[] = [];
    const now = this.clock.now();
    const batch = 500;
    for (let offset = 0; ; offset += batch) {
      const page = await this.metadata.projects.list({ ...filter, offset, limit: batch });
      for (const project of page.items) {
        if (projectPermissionsOf(subject, { project }, now).size > 0) visible.push(project);
      }
      if (page.items.length < batch || offset + batch >= page.total) break;
    }
    return { items: visible.slice(filter.offset, filter.offset + filter.limit), total: visible.length };
  }
}
