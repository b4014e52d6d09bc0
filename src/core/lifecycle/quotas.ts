import { RegistryError } from '../errors.js';
import { requireSystem } from '../iam/guard.js';
import type { Subject } from '../iam/policy.js';
import type { Clock, Counted, MetadataStore, OffsetQuery } from '../ports.js';
import type { Project } from '../iam/model.js';

export interface Quota {
  /** The project's id (Harbor's quota id is separate; Berth has one quota per project). */
  id: number;
  project: Project;
  hard: number;
  used: number;
}

/** Harbor's `/quotas`: project storage limits and usage, for system administrators. */
export class QuotaService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
  ) {}

  async list(subject: Subject, query: OffsetQuery & { projectId?: number }): Promise<Counted<Quota>> {
    requireSystem(subject, 'system:manage');
    if (query.projectId !== undefined) {
      const project = await this.metadata.projects.get(query.projectId);
      return project === undefined ? { items: [], total: 0 } : { items: [await this.of(project)], total: 1 };
    }
    const page = await this.metadata.projects.list({ offset: query.offset, limit: query.limit });
    const items: Quota[] = [];
    for (const project of page.items) items.push(await this.of(project));
    return { items, total: page.total };
  }

  async get(subject: Subject, id: number): Promise<Quota> {
    requireSystem(subject, 'system:manage');
    return this.of(await this.project(id));
  }

  async setHard(subject: Subject, id: number, storage: number): Promise<Quota> {
    requireSystem(subject, 'system:manage');
    if (!Number.isSafeInteger(storage) || storage < -1)
      throw new RegistryError('BAD_REQUEST', 'hard.storage must be -1 (unlimited) or a number of bytes');
    const project = await this.project(id);
    const updated = await this.metadata.projects.update(
      project.id,
      { storageLimit: storage },
      this.clock.now(),
    );
    if (updated === undefined) throw new RegistryError('NOT_FOUND', `quota ${id} not found`);
    return this.of(updated);
  }

  private async project(id: number): Promise<Project> {
    const project = await this.metadata.projects.get(id);
    if (project === undefined) throw new RegistryError('NOT_FOUND', `quota ${id} not found`);
    return project;
  }

  private async of(project: Project): Promise<Quota> {
    return {
      id: project.id,
      project,
      hard: project.storageLimit,
      used: await this.metadata.quotas.usage(project.name),
    };
  }
}
