import type { Clock, MetadataStore } from '../ports.js';
import type { Project, RoleId } from './model.js';
import type { ProjectPermission } from './permissions.js';
import { projectOfRepository, projectPermissionsOf, type ProjectContext, type Subject } from './policy.js';

interface Cached<T> {
  value: T;
  until: number;
}

/**
 * Loads what the policy needs (a project and the subject's role in it) and applies the policy. Lookups
 * are cached per node for `ttlMs` (default 5 s), the bound on how long a change made on another node
 * (project made private, member removed) can go unseen here; tokens live longer than that.
 */
export class AccessService {
  private readonly projects = new Map<string, Cached<Project | undefined>>();
  private readonly roles = new Map<string, Cached<RoleId | undefined>>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
    private readonly ttlMs = 5_000,
  ) {}

  /** The project and the subject's role in it; undefined when the project does not exist. */
  async context(subject: Subject, projectName: string): Promise<ProjectContext | undefined> {
    const project = await this.cached(this.projects, projectName, () =>
      this.metadata.projects.getByName(projectName),
    );
    if (project === undefined) return undefined;
    if (subject.kind !== 'user') return { project };
    const key = `${project.id}:${subject.user.id}`;
    const memberRole = await this.cached(this.roles, key, () =>
      this.metadata.members.roleOf(project.id, subject.user.id),
    );
    return memberRole === undefined ? { project } : { project, memberRole };
  }

  /** What the subject may do in the project (empty when the project does not exist). */
  async permissions(subject: Subject, projectName: string): Promise<Set<ProjectPermission>> {
    const context = await this.context(subject, projectName);
    return context === undefined ? new Set() : projectPermissionsOf(subject, context, this.clock.now());
  }

  /** Permissions on the project a repository belongs to. */
  permissionsOnRepository(subject: Subject, repository: string): Promise<Set<ProjectPermission>> {
    const project = projectOfRepository(repository);
    return project === undefined ? Promise.resolve(new Set()) : this.permissions(subject, project);
  }

  /** Forgets cached lookups after a write on this node, so this node never serves its own stale data. */
  invalidate(): void {
    this.projects.clear();
    this.roles.clear();
  }

  private async cached<T>(map: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const now = this.clock.now().getTime();
    const hit = map.get(key);
    if (hit !== undefined && hit.until > now) return hit.value;
    const value = await load();
    if (map.size > 50_000) map.clear();
    map.set(key, { value, until: now + this.ttlMs });
    return value;
  }
}
