import { RegistryError } from '../errors.js';
import { ProjectGuard, type ProjectAccess } from '../iam/guard.js';
import type { ProjectPermission } from '../iam/permissions.js';
import type { Subject } from '../iam/policy.js';
import { isRepositoryName } from '../oci/names.js';
import type { Clock, Counted, MetadataStore, OffsetQuery, RepositorySummary } from '../ports.js';

/** A repository named the Harbor way: a project and the rest of the name (`a/b` in `p/a/b`). */
export interface RepositoryRef {
  project: string;
  repository: string;
}

/** `p/a/b` for `{project: p, repository: a/b}`, checked against the distribution name grammar. */
export function fullName(ref: RepositoryRef): string {
  const name = `${ref.project}/${ref.repository}`;
  if (!isRepositoryName(name))
    throw new RegistryError('BAD_REQUEST', 'invalid repository name', { name: name.slice(0, 300) });
  return name;
}

/** Finds the project of a repository and checks the caller's permission on it. */
export async function requireRepositoryAccess(
  guard: ProjectGuard,
  subject: Subject,
  ref: RepositoryRef,
  permission: ProjectPermission,
): Promise<{ access: ProjectAccess; name: string }> {
  const access = await guard.require(subject, { by: 'name', name: ref.project }, permission);
  return { access, name: fullName(ref) };
}

/** Repositories of a project, as `/projects/{p}/repositories` lists, reads and deletes them. */
export class RepositoryService {
  private readonly guard: ProjectGuard;

  constructor(
    private readonly metadata: MetadataStore,
    clock: Clock,
  ) {
    this.guard = new ProjectGuard(metadata, clock);
  }

  async list(
    subject: Subject,
    project: string,
    query: OffsetQuery & { q?: string },
  ): Promise<{ access: ProjectAccess; page: Counted<RepositorySummary> }> {
    const access = await this.guard.require(subject, { by: 'name', name: project }, 'repository:list');
    const page = await this.metadata.repositories.listInProject(access.project.name, query);
    return { access, page };
  }

  async get(
    subject: Subject,
    ref: RepositoryRef,
  ): Promise<{ access: ProjectAccess; repository: RepositorySummary }> {
    const { access, name } = await requireRepositoryAccess(this.guard, subject, ref, 'repository:read');
    const repository = await this.metadata.repositories.get(name);
    if (repository === undefined) throw new RegistryError('NOT_FOUND', `repository ${name} not found`);
    return { access, repository };
  }

  /** Removes the repository with all its artifacts and tags (bytes go with garbage collection). */
  async delete(subject: Subject, ref: RepositoryRef): Promise<void> {
    const { name } = await requireRepositoryAccess(this.guard, subject, ref, 'repository:delete');
    if (!(await this.metadata.repositories.delete(name))) {
      throw new RegistryError('NOT_FOUND', `repository ${name} not found`);
    }
  }
}
