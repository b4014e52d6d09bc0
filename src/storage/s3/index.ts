export { createS3BlobStore, S3BlobStore } from './s3-blob-store.js';
export type { S3BlobStoreOptions } from './options.js';
