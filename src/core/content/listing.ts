import { RegistryError } from '../errors.js';
import type { MetadataStore } from '../ports.js';
import { fetchPage, readPage, type PageRequest, type PageResult } from './pagination.js';

/** Tag lists and the catalog, paginated in byte order. */
export class ListingService {
  constructor(private readonly metadata: MetadataStore) {}

  async tags(repository: string, request: PageRequest): Promise<PageResult<string>> {
    const page = readPage(request);
    if (!(await this.metadata.repositories.exists(repository))) {
      throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { name: repository });
    }
    return fetchPage(page, (p) => this.metadata.tags.list(repository, p));
  }

  catalog(request: PageRequest): Promise<PageResult<string>> {
    return fetchPage(readPage(request), (p) => this.metadata.repositories.list(p));
  }
}
