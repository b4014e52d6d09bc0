import { ProjectGuard } from '../iam/guard.js';
import type { Project } from '../iam/model.js';
import type { Subject } from '../iam/policy.js';
import type { ProjectDetails, ProjectService } from '../iam/projects.js';
import type { Clock, MetadataStore, RepositorySummary } from '../ports.js';

export interface SearchResult {
  projects: ProjectDetails[];
  repositories: { project: Project; repository: RepositorySummary }[];
}

/**
 * Harbor's `/search`: projects whose name contains the text, and repositories (by full name) in the
 * projects the caller may list repositories of. Each part is capped at `limit` results.
 */
export class SearchService {
  private readonly guard: ProjectGuard;

  constructor(
    private readonly projects: ProjectService,
    private readonly metadata: MetadataStore,
    clock: Clock,
    private readonly limit = 100,
  ) {
    this.guard = new ProjectGuard(metadata, clock);
  }

  async search(subject: Subject, text: string): Promise<SearchResult> {
    const projects = (await this.projects.list(subject, { q: text, offset: 0, limit: this.limit })).items;
    const repositories: SearchResult['repositories'] = [];
    const pageSize = 100;
    for (let offset = 0; repositories.length < this.limit && offset < 10_000; offset += pageSize) {
      const page = await this.projects.visible(subject, { offset, limit: pageSize });
      for (const project of page.items) {
        if (repositories.length >= this.limit) break;
        const access = await this.guard.access(subject, project);
        if (!access.permissions.has('repository:list')) continue;
        const found = await this.metadata.repositories.listInProject(project.name, {
          q: text,
          offset: 0,
          limit: this.limit - repositories.length,
        });
        for (const repository of found.items) repositories.push({ project, repository });
      }
      if (page.items.length < pageSize) break;
    }
    return { projects, repositories };
  }
}
