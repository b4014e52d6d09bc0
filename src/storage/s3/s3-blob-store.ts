import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import type { Digest } from '../../core/oci/digest.js';
import type {
  AppendResult,
  BlobInfo,
  BlobReader,
  BlobStore,
  ByteRange,
  CommitResult,
} from '../../core/ports.js';
import { S3Layout } from './layout.js';
import { S3Objects } from './objects.js';
import { createS3Client, resolveOptions, type ResolvedOptions, type S3BlobStoreOptions } from './options.js';
import { S3Uploads } from './uploads.js';

/**
 * The scale-out BlobStore: blobs and uploads in one S3 bucket (layout.ts), so every node that shares the
 * bucket sees the same blobs and can continue any upload. A blob key is written only by copying an
 * upload whose digest was checked (or by `putVerified`), and a PUT or copy in S3 is atomic, so a blob is
 * never visible half written or unverified.
 */
export class S3BlobStore implements BlobStore {
  private readonly options: ResolvedOptions;
  private readonly layout: S3Layout;
  private readonly objects: S3Objects;
  private readonly uploads: S3Uploads;
  private readonly ownsClient: boolean;

  /** `client` replaces the one built from the options (a caller sharing one client keeps closing it). */
  constructor(options: S3BlobStoreOptions, client?: S3Client) {
    this.options = resolveOptions(options);
    this.ownsClient = client === undefined;
    this.layout = new S3Layout(this.options.prefix);
    this.objects = new S3Objects(client ?? createS3Client(options), this.options.bucket);
    this.uploads = new S3Uploads(this.objects, this.layout, this.options);
  }

  /** Checks that the bucket exists and answers, so a misconfiguration fails at startup, not on a push. */
  async init(): Promise<this> {
    await this.objects.checkBucket();
    return this;
  }

  async stat(digest: Digest): Promise<BlobInfo | undefined> {
    const size = await this.objects.size(this.layout.blobKey(digest));
    return size === undefined ? undefined : { digest, size };
  }

  open(digest: Digest, range?: ByteRange): Promise<BlobReader | undefined> {
    return this.objects.read(this.layout.blobKey(digest), range);
  }

  async redirectUrl(digest: Digest): Promise<string | undefined> {
    if (!this.options.redirect) return undefined;
    return getSignedUrl(
      this.objects.client,
      new GetObjectCommand({ Bucket: this.options.bucket, Key: this.layout.blobKey(digest) }),
      { expiresIn: this.options.redirectExpiresSeconds },
    );
  }

  async putVerified(digest: Digest, bytes: Buffer): Promise<void> {
    const key = this.layout.blobKey(digest);
    if ((await this.objects.size(key)) !== undefined) return;
    await this.objects.put(key, bytes);
  }

  startUpload(): Promise<string> {
    return this.uploads.start();
  }

  appendUpload(id: string, source: Readable, offset: number): Promise<AppendResult> {
    return this.uploads.append(id, source, offset);
  }

  uploadStatus(id: string): Promise<{ offset: number } | undefined> {
    return this.uploads.status(id);
  }

  commitUpload(id: string, expected: Digest): Promise<CommitResult> {
    return this.uploads.commit(id, expected);
  }

  cancelUpload(id: string): Promise<void> {
    return this.uploads.cancel(id);
  }

  async delete(digest: Digest): Promise<boolean> {
    // S3 answers a DELETE of a missing key with success too, so ask first: the answer is for GC's report,
    // and a blob another node deletes in between is gone either way.
    const key = this.layout.blobKey(digest);
    if ((await this.objects.size(key)) === undefined) return false;
    await this.objects.delete(key);
    return true;
  }

  async *list(): AsyncIterable<BlobInfo & { modifiedAt: Date }> {
    for await (const object of this.objects.list(this.layout.blobsPrefix)) {
      const digest = object.Key === undefined ? undefined : this.layout.digestOf(object.Key);
      if (digest !== undefined) {
        yield { digest, size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
      }
    }
  }

  close(): Promise<void> {
    this.uploads.close();
    if (this.ownsClient) this.objects.client.destroy();
    return Promise.resolve();
  }
}

export function createS3BlobStore(options: S3BlobStoreOptions): S3BlobStore {
  return new S3BlobStore(options);
}
