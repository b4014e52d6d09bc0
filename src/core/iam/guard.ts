import { RegistryError } from '../errors.js';
import type { Clock, MetadataScope } from '../ports.js';
import type { Project } from './model.js';
import type { ProjectPermission } from './permissions.js';
import {
  maySystem,
  projectPermissionsOf,
  type ProjectContext,
  type Subject,
  type SystemAction,
} from './policy.js';

/** A project named in a request: by name, or by numeric id (Harbor's `project_name_or_id`). */
export type ProjectRef = { by: 'name'; name: string } | { by: 'id'; id: number };

/**
 * Harbor's rule: a value that parses as an integer is an id unless `X-Is-Resource-Name: true` says it is
 * a name (project names may be all digits).
 */
export function projectRef(value: string, isResourceName = false): ProjectRef {
  if (!isResourceName && /^[0-9]{1,15}$/.test(value)) return { by: 'id', id: Number(value) };
  return { by: 'name', name: value };
}

/** The refusal for a subject: 401 for anonymous callers (they may sign in), 403 for the others. */
export function denied(subject: Subject, message = 'forbidden'): RegistryError {
  return subject.kind === 'anonymous'
    ? new RegistryError('UNAUTHORIZED', 'unauthorized')
    : new RegistryError('DENIED', message);
}

export function requireSystem(subject: Subject, action: SystemAction, message?: string): void {
  if (!maySystem(subject, action)) throw denied(subject, message);
}

/** What a subject may do in one project, with the project and membership the decision was made from. */
export interface ProjectAccess {
  project: Project;
  context: ProjectContext;
  permissions: Set<ProjectPermission>;
}

/**
 * Loads projects and the caller's membership straight from the store (no cache: the management API must
 * see its own writes) and asks the policy. Used by every management use case before it acts.
 */
export class ProjectGuard {
  constructor(
    private readonly metadata: MetadataScope,
    private readonly clock: Clock,
  ) {}

  find(ref: ProjectRef): Promise<Project | undefined> {
    return ref.by === 'id' ? this.metadata.projects.get(ref.id) : this.metadata.projects.getByName(ref.name);
  }

  async load(ref: ProjectRef): Promise<Project> {
    const project = await this.find(ref);
    if (project === undefined) {
      throw new RegistryError('NOT_FOUND', `project ${ref.by === 'id' ? ref.id : ref.name} not found`);
    }
    return project;
  }

  async access(subject: Subject, project: Project): Promise<ProjectAccess> {
    const context: ProjectContext = { project };
    if (subject.kind === 'user') {
      const role = await this.metadata.members.roleOf(project.id, subject.user.id);
      if (role !== undefined) context.memberRole = role;
    }
    return { project, context, permissions: projectPermissionsOf(subject, context, this.clock.now()) };
  }

  /** The project and the caller's access to it, or NOT_FOUND / UNAUTHORIZED / DENIED. */
  async require(
    subject: Subject,
    target: ProjectRef | Project,
    permission: ProjectPermission,
  ): Promise<ProjectAccess> {
    const project = 'by' in target ? await this.load(target) : target;
    const access = await this.access(subject, project);
    if (!access.permissions.has(permission)) throw denied(subject);
    return access;
  }
}
