import { S3Client } from '@aws-sdk/client-s3';

/** 5 MiB: the smallest part S3 accepts in a multipart upload, except for the last one. */
export const minPartBytes = 5 * 1024 * 1024;
/** 5 GiB: the largest object CopyObject copies, and the largest range one UploadPartCopy copies. */
export const maxCopyBytes = 5 * 1024 * 1024 * 1024;
/** S3 allows at most 10,000 parts in one multipart upload. */
export const maxParts = 10_000;

export interface S3BlobStoreOptions {
  bucket: string;
  /** Custom endpoint (MinIO, Ceph, Swift, ...); omit for AWS. */
  endpoint?: string;
  region: string;
  /** Omit both keys to use the SDK's default credential chain (environment, instance role, ...). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers need. */
  forcePathStyle?: boolean;
  /** Key prefix, a folder in the bucket ("registry/"); a missing trailing slash is added. */
  prefix?: string;
  /** Answer `redirectUrl` with presigned GET URLs, so clients download blobs from S3 directly. */
  redirect?: boolean;
  /** Lifetime of presigned URLs in seconds; default 20 minutes. */
  redirectExpiresSeconds?: number;
  /**
   * Bytes per multipart part and the bound on what one upload buffers in memory; default 8 MiB, at least
   * 5 MiB. With 10,000 parts per upload, the default allows blobs up to about 78 GiB.
   */
  partSize?: number;
  /**
   * Objects larger than this are copied with UploadPartCopy in ranges of at most this size rather than
   * with one CopyObject. Default and maximum 5 GiB (S3's limit); at least 10 MiB, so that ranges split
   * evenly never fall below the 5 MiB part minimum. Tests lower it to reach that path with small blobs.
   */
  copyLimit?: number;
}

export interface ResolvedOptions {
  bucket: string;
  prefix: string;
  redirect: boolean;
  redirectExpiresSeconds: number;
  partSize: number;
  copyLimit: number;
}

export function resolveOptions(options: S3BlobStoreOptions): ResolvedOptions {
  const partSize = options.partSize ?? 8 * 1024 * 1024;
  const copyLimit = options.copyLimit ?? maxCopyBytes;
  if (!Number.isSafeInteger(partSize) || partSize < minPartBytes || partSize > maxCopyBytes) {
    throw new RangeError(`partSize must be an integer between ${minPartBytes} and ${maxCopyBytes}`);
  }
  if (!Number.isSafeInteger(copyLimit) || copyLimit < 2 * minPartBytes || copyLimit > maxCopyBytes) {
    throw new RangeError(`copyLimit must be an integer between ${2 * minPartBytes} and ${maxCopyBytes}`);
  }
  return {
    bucket: options.bucket,
    prefix: options.prefix ?? '',
    redirect: options.redirect ?? false,
    redirectExpiresSeconds: options.redirectExpiresSeconds ?? 20 * 60,
    partSize,
    copyLimit,
  };
}

export function createS3Client(options: S3BlobStoreOptions): S3Client {
  const { accessKeyId, secretAccessKey } = options;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new TypeError('give both accessKeyId and secretAccessKey, or neither');
  }
  return new S3Client({
    region: options.region,
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(accessKeyId !== undefined &&
      secretAccessKey !== undefined && { credentials: { accessKeyId, secretAccessKey } }),
    // Every body we send is a Buffer of known length. Default checksums ("WHEN_SUPPORTED") add trailing
    // aws-chunked checksums that several S3-compatible servers (Swift, older MinIO/Ceph) refuse, and
    // validating response checksums would fail on multipart objects whose checksum is per part.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
