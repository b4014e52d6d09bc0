import { RegistryError } from '../errors.js';
import { ProjectGuard, type ProjectAccess } from '../iam/guard.js';
import type { ProjectPermission } from '../iam/permissions.js';
import type { Subject } from '../iam/policy.js';
import type { Digest } from '../oci/digest.js';
import { indexTypes } from '../oci/media-types.js';
import { parseReference, requireTag } from '../oci/names.js';
import type { BlobStore, Clock, Counted, ManifestRecord, MetadataStore, OffsetQuery } from '../ports.js';
import { ArtifactDeleter } from './artifact-deleter.js';
import { ArtifactReader, type ArtifactView } from './artifact-view.js';
import type { Registry } from './registry.js';
import { requireRepositoryAccess, type RepositoryRef } from './repositories.js';

/** Harbor's `q` filters on artifacts. */
export interface ArtifactFilter {
  /** `tags=*` tagged, `tags=nil` untagged, `tags=v` exact, `tags=~v` substring. */
  tags?: { kind: 'any' } | { kind: 'none' } | { kind: 'exact' | 'fuzzy'; value: string };
  digest?: string;
}

export interface ArtifactListQuery extends OffsetQuery {
  filter?: ArtifactFilter;
  withTags?: boolean;
}

interface Located {
  access: ProjectAccess;
  name: string;
  record: ManifestRecord;
}

const batch = 1_000;

/**
 * Artifacts and their tags (Harbor's `/projects/{p}/repositories/{r}/artifacts`). Like Harbor, lists show
 * the artifacts that are tagged or that no index references, so the platform images of a multi-arch
 * index appear as its references rather than as artifacts of their own.
 */
export class ArtifactService {
  private readonly guard: ProjectGuard;
  private readonly reader: ArtifactReader;
  private readonly deleter: ArtifactDeleter;

  constructor(
    private readonly registry: Registry,
    private readonly metadata: MetadataStore,
    blobs: BlobStore,
    private readonly clock: Clock,
  ) {
    this.guard = new ProjectGuard(metadata, clock);
    this.reader = new ArtifactReader(registry.manifests, metadata, blobs);
    this.deleter = new ArtifactDeleter(registry.manifests, metadata);
  }

  async list(
    subject: Subject,
    ref: RepositoryRef,
    query: ArtifactListQuery,
  ): Promise<{ access: ProjectAccess; page: Counted<ArtifactView> }> {
    const { access, name } = await requireRepositoryAccess(this.guard, subject, ref, 'artifact:list');
    if (!(await this.metadata.repositories.exists(name))) {
      throw new RegistryError('NOT_FOUND', `repository ${name} not found`);
    }
    const records: ManifestRecord[] = [];
    for (let offset = 0; ; offset += batch) {
      const page = await this.metadata.manifests.list(name, { offset, limit: batch });
      records.push(...page.items);
      if (page.items.length < batch || records.length >= page.total) break;
    }
    const children = new Set<Digest>();
    for (const record of records) {
      if (indexTypes.has(record.mediaType))
        for (const child of await this.metadata.manifests.children(name, record.digest)) children.add(child);
    }
    const filter = query.filter ?? {};
    const tagsOf = new Map<Digest, string[]>();
    const needTags = (digest: Digest) => children.has(digest) || filter.tags !== undefined;
    for (const record of records) {
      if (needTags(record.digest))
        tagsOf.set(record.digest, await this.metadata.tags.listFor(name, record.digest));
    }
    const visible = records.filter((record) => {
      const tags = tagsOf.get(record.digest);
      if (children.has(record.digest) && (tags === undefined || tags.length === 0)) return false;
      return matches(record, tags ?? [], filter);
    });
    const items: ArtifactView[] = [];
    for (const record of visible.slice(query.offset, query.offset + query.limit)) {
      items.push(await this.reader.view(record, query.withTags ?? true));
    }
    return { access, page: { items, total: visible.length } };
  }

  async get(
    subject: Subject,
    ref: RepositoryRef,
    reference: string,
    withTags = true,
  ): Promise<{ access: ProjectAccess; artifact: ArtifactView }> {
    const located = await this.locate(subject, ref, reference, 'artifact:read');
    return { access: located.access, artifact: await this.reader.view(located.record, withTags) };
  }

  /**
   * Deletes the artifact a tag or digest names, with all its tags (unlike `/v2`, where deleting a tag only
   * untags). An artifact that an index references cannot be deleted (412); deleting an index also deletes
   * its children that nothing else references and that carry no tag, and its accessories (referrers).
   */
  async delete(subject: Subject, ref: RepositoryRef, reference: string): Promise<void> {
    const { name, record } = await this.locate(subject, ref, reference, 'artifact:delete');
    await this.deleter.delete(name, record);
  }

  async listTags(
    subject: Subject,
    ref: RepositoryRef,
    reference: string,
    query: OffsetQuery,
  ): Promise<{ access: ProjectAccess; artifact: ManifestRecord; page: Counted<string> }> {
    const { access, name, record } = await this.locate(subject, ref, reference, 'tag:list');
    const tags = (await this.metadata.tags.listFor(name, record.digest)).sort();
    return {
      access,
      artifact: record,
      page: { items: tags.slice(query.offset, query.offset + query.limit), total: tags.length },
    };
  }

  /** Adds a tag; 409 when the repository already has a tag of that name (it is never moved). */
  async createTag(subject: Subject, ref: RepositoryRef, reference: string, tag: string): Promise<void> {
    const { name, record } = await this.locate(subject, ref, reference, 'tag:create');
    requireTag(tag);
    if ((await this.metadata.tags.resolve(name, tag)) !== undefined) {
      throw new RegistryError('CONFLICT', `tag ${tag} already exists in ${name}`);
    }
    await this.metadata.tags.set(name, tag, record.digest, this.clock.now());
  }

  async deleteTag(subject: Subject, ref: RepositoryRef, reference: string, tag: string): Promise<void> {
    const { name, record } = await this.locate(subject, ref, reference, 'tag:delete');
    if ((await this.metadata.tags.resolve(name, tag)) !== record.digest) {
      throw new RegistryError('NOT_FOUND', `tag ${tag.slice(0, 128)} of ${name}@${record.digest} not found`);
    }
    // Through the manifest service, so that immutable tags are refused.
    await this.registry.manifests.delete(name, { kind: 'tag', tag: requireTag(tag) });
  }

  private async locate(
    subject: Subject,
    ref: RepositoryRef,
    reference: string,
    permission: ProjectPermission,
  ): Promise<Located> {
    const { access, name } = await requireRepositoryAccess(this.guard, subject, ref, permission);
    const parsed = parseReference(reference);
    const digest =
      parsed.kind === 'digest' ? parsed.digest : await this.metadata.tags.resolve(name, parsed.tag);
    const record = digest === undefined ? undefined : await this.metadata.manifests.get(name, digest);
    if (record === undefined) {
      throw new RegistryError(
        'NOT_FOUND',
        `artifact ${name}${parsed.kind === 'tag' ? ':' : '@'}${reference} not found`,
      );
    }
    return { access, name, record };
  }
}

function matches(record: ManifestRecord, tags: string[], filter: ArtifactFilter): boolean {
  if (filter.digest !== undefined && record.digest !== filter.digest) return false;
  const wanted = filter.tags;
  if (wanted === undefined) return true;
  switch (wanted.kind) {
    case 'any':
      return tags.length > 0;
    case 'none':
      return tags.length === 0;
    case 'exact':
      return tags.includes(wanted.value);
    case 'fuzzy':
      return tags.some((tag) => tag.includes(wanted.value));
  }
}
