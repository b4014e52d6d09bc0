import { RegistryError } from '../errors.js';
import { indexTypes } from '../oci/media-types.js';
import type { ManifestRecord, MetadataScope } from '../ports.js';
import type { ManifestService } from './manifests.js';

/** How deep indexes of indexes and accessories of accessories are followed. */
const maxDepth = 4;

/**
 * Harbor's artifact deletion, shared by the management API and retention: the artifact goes with all its
 * tags (through ManifestService, so the tag guards and change listeners apply), then its accessories
 * (manifests whose `subject` is the artifact) and the children of an index that carry no tag and that
 * nothing else references.
 */
export class ArtifactDeleter {
  constructor(
    private readonly manifests: ManifestService,
    private readonly metadata: MetadataScope,
  ) {}

  /** PRECONDITION_FAILED when an index references the artifact. */
  async delete(repository: string, record: ManifestRecord): Promise<void> {
    if ((await this.metadata.manifests.parents(repository, record.digest)).length > 0) {
      throw new RegistryError('PRECONDITION_FAILED', 'the deleting artifact is referenced by others');
    }
    await this.deleteDeeply(repository, record, 0);
  }

  private async deleteDeeply(repository: string, record: ManifestRecord, depth: number): Promise<void> {
    const children = indexTypes.has(record.mediaType)
      ? await this.metadata.manifests.children(repository, record.digest)
      : [];
    const accessories = await this.metadata.manifests.referrers(repository, record.digest);
    await this.manifests.delete(repository, { kind: 'digest', digest: record.digest });
    if (depth >= maxDepth) return;
    for (const accessory of accessories) {
      if (accessory.digest === record.digest) continue;
      if ((await this.metadata.manifests.get(repository, accessory.digest)) === undefined) continue;
      if ((await this.metadata.manifests.parents(repository, accessory.digest)).length > 0) continue;
      await this.deleteDeeply(repository, accessory, depth + 1);
    }
    for (const digest of new Set(children)) {
      const child = await this.metadata.manifests.get(repository, digest);
      if (child === undefined) continue;
      if ((await this.metadata.manifests.parents(repository, digest)).length > 0) continue;
      if ((await this.metadata.tags.listFor(repository, digest)).length > 0) continue;
      await this.deleteDeeply(repository, child, depth + 1);
    }
  }
}
