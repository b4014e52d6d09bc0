import { ChartManifestValidator } from '../charts/validator.js';
import { ImmutableTagGuard } from '../lifecycle/immutable/guard.js';
import type { BlobStore, Clock, MetadataStore } from '../ports.js';
import { BlobService } from './blobs.js';
import { ListingService } from './listing.js';
import { ManifestService, type ManifestServiceOptions } from './manifests.js';
import { PullRecorder, type PullRecorderOptions } from './pull-recorder.js';

/** The content use cases of one registry, built over its two stores. */
export class Registry {
  readonly blobs: BlobService;
  readonly manifests: ManifestService;
  readonly listing: ListingService;
  /** Pull counts and times, written in batches off the request path. */
  readonly pulls: PullRecorder;

  constructor(
    blobStore: BlobStore,
    metadata: MetadataStore,
    clock: Clock,
    options: ManifestServiceOptions & { pulls?: PullRecorderOptions },
  ) {
    this.blobs = new BlobService(blobStore, metadata, clock);
    this.manifests = new ManifestService(blobStore, metadata, clock, options);
    // Helm charts are checked (the archive must be a valid chart) before a chart manifest is stored.
    this.manifests.addValidator(new ChartManifestValidator(blobStore, metadata.blobLinks));
    // Immutable tags can be neither moved nor deleted.
    this.manifests.addTagGuard(new ImmutableTagGuard(metadata));
    this.listing = new ListingService(metadata);
    this.pulls = new PullRecorder(metadata.manifests, clock, options.pulls);
  }

  /** Writes pending pull counts; call before closing the metadata store. */
  close(): Promise<void> {
    return this.pulls.close();
  }
}
