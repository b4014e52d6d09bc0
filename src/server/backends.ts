import type { BlobStore, MetadataStore } from '../core/ports.js';
import { resolvePaths, type BerthConfig } from './config.js';

/**
 * Opens the BlobStore the config names. The scale-out backends are imported only when configured, so
 * the embedded default never loads the AWS SDK.
 */
export async function openBlobStore(config: BerthConfig): Promise<BlobStore> {
  const storage = config.storage;
  if (storage.driver === 's3') {
    const { S3BlobStore } = await import('../storage/s3/s3-blob-store.js');
    return new S3BlobStore({
      bucket: storage.bucket,
      region: storage.region,
      forcePathStyle: storage.forcePathStyle,
      prefix: storage.prefix,
      redirect: storage.redirect,
      ...(storage.endpoint !== undefined && { endpoint: storage.endpoint }),
      ...(storage.accessKeyId !== undefined && { accessKeyId: storage.accessKeyId }),
      ...(storage.secretAccessKey !== undefined && { secretAccessKey: storage.secretAccessKey }),
    }).init();
  }
  const { FsBlobStore } = await import('../storage/fs-blob-store.js');
  return new FsBlobStore(resolvePaths(config).blobs).init();
}

/** Opens the MetadataStore the config names, applying its migrations. */
export async function openMetadataStore(config: BerthConfig): Promise<MetadataStore> {
  if (config.metadata.driver === 'postgres') {
    const { PostgresMetadataStore } = await import('../metadata/postgres/store.js');
    return PostgresMetadataStore.connect(config.metadata.url);
  }
  const { SqliteMetadataStore } = await import('../metadata/sqlite/store.js');
  return new SqliteMetadataStore(resolvePaths(config).database);
}
