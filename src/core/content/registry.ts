import type { BlobStore, Clock, MetadataStore } from '../ports.js';
import { BlobService } from './blobs.js';
import { ListingService } from './listing.js';
import { ManifestService, type ManifestServiceOptions } from './manifests.js';

/** The content use cases of one registry, built over its two stores. */
export class Registry {
  readonly blobs: BlobService;
  readonly manifests: ManifestService;
  readonly listing: ListingService;

  constructor(blobStore: BlobStore, metadata: MetadataStore, clock: Clock, options: ManifestServiceOptions) {
    this.blobs = new BlobService(blobStore, metadata, clock);
    this.manifests = new ManifestService(blobStore, metadata, clock, options);
    this.listing = new ListingService(metadata);
  }
}
