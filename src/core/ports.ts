import type { Readable } from 'node:stream';
import type { Digest } from './oci/digest.js';

/**
 * The ports the domain needs from the outside world. Every method is async, even where the embedded
 * implementation is synchronous underneath (SQLite), so that PostgreSQL and S3 fit without changing
 * any caller. Expected outcomes are results, not exceptions.
 */

// ---------------------------------------------------------------- blobs

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** Inclusive byte range, already validated against the blob's size. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobReader {
  /** Total size of the blob (not of the range). */
  size: number;
  stream: Readable;
}

export type AppendResult =
  | { ok: true; offset: number }
  | { ok: false; reason: 'unknown-upload' }
  | { ok: false; reason: 'offset-mismatch'; offset: number };

export type CommitResult =
  | { ok: true; size: number }
  | { ok: false; reason: 'unknown-upload' }
  | { ok: false; reason: 'digest-mismatch'; actual: Digest };

/**
 * Immutable content-addressed bytes, plus the bytes of uploads in progress. A blob becomes visible only
 * when `commitUpload` has checked its digest; it is durable once the promise resolves.
 */
export interface BlobStore {
  stat(digest: Digest): Promise<BlobInfo | undefined>;
  /** Opens a blob, or a range of it. Undefined when absent. */
  open(digest: Digest, range?: ByteRange): Promise<BlobReader | undefined>;
  /** Where a client may fetch the blob directly (S3 presigned URL); undefined to stream through Berth. */
  redirectUrl?(digest: Digest): Promise<string | undefined>;
  /** Stores small content whose digest the caller has already computed (manifests). Durable on return. */
  putVerified(digest: Digest, bytes: Buffer): Promise<void>;

  startUpload(): Promise<string>;
  /**
   * Appends `source` to an upload at `offset`, which must equal the bytes already received. If the source
   * fails midway, what arrived may be kept (the offset then says how much); nothing becomes visible.
   */
  appendUpload(id: string, source: Readable, offset: number): Promise<AppendResult>;
  uploadStatus(id: string): Promise<{ offset: number } | undefined>;
  /** Verifies the upload's digest and publishes it as a blob (atomically), then forgets the upload. */
  commitUpload(id: string, expected: Digest): Promise<CommitResult>;
  cancelUpload(id: string): Promise<void>;

  delete(digest: Digest): Promise<boolean>;
  /** Every stored blob, for garbage collection. */
  list(): AsyncIterable<BlobInfo & { modifiedAt: Date }>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- metadata

export interface Page {
  /** Exclusive lower bound in byte order. */
  last?: string;
  limit: number;
}

export interface ManifestRecord {
  repository: string;
  digest: Digest;
  mediaType: string;
  size: number;
  artifactType?: string;
  subject?: Digest;
  annotations?: Record<string, string>;
  createdAt: Date;
}

export interface ManifestWrite extends ManifestRecord {
  /** Blobs the manifest references (config, layers); each must be linked to the repository. */
  blobs: Digest[];
  /** Manifests an index references; each must exist in the repository. */
  children: Digest[];
}

export interface UploadSession {
  id: string;
  repository: string;
  startedAt: Date;
}

export interface RepositoryStore {
  exists(name: string): Promise<boolean>;
  list(page: Page): Promise<string[]>;
}

export interface BlobLinkStore {
  /** The blob's size if it is linked to (pullable from) the repository. */
  get(repository: string, digest: Digest): Promise<{ size: number } | undefined>;
  /** Links a stored blob to a repository, creating the repository if needed. Idempotent. */
  link(repository: string, digest: Digest, size: number): Promise<void>;
  unlink(repository: string, digest: Digest): Promise<boolean>;
  /** Digests among `digests` that are not linked to the repository. */
  missing(repository: string, digests: Digest[]): Promise<Digest[]>;
  /** Repositories holding the blob, for automatic cross-repository mounts. */
  repositoriesHolding(digest: Digest, limit: number): Promise<string[]>;
}

export interface ManifestStore {
  get(repository: string, digest: Digest): Promise<ManifestRecord | undefined>;
  /** Inserts the manifest row and its references. Idempotent for the same digest. */
  put(manifest: ManifestWrite): Promise<void>;
  delete(repository: string, digest: Digest): Promise<boolean>;
  /** Digests among `digests` that are not manifests of the repository. */
  missing(repository: string, digests: Digest[]): Promise<Digest[]>;
  referrers(repository: string, subject: Digest, artifactType?: string): Promise<ManifestRecord[]>;
}

export interface TagStore {
  resolve(repository: string, tag: string): Promise<Digest | undefined>;
  /** Points a tag at a manifest, returning the digest it pointed at before, if any. */
  set(repository: string, tag: string, digest: Digest, at: Date): Promise<Digest | undefined>;
  delete(repository: string, tag: string): Promise<boolean>;
  list(repository: string, page: Page): Promise<string[]>;
  /** Tags pointing at a manifest. */
  listFor(repository: string, digest: Digest): Promise<string[]>;
  deleteFor(repository: string, digest: Digest): Promise<number>;
}

export interface UploadSessionStore {
  create(session: UploadSession): Promise<void>;
  get(id: string): Promise<UploadSession | undefined>;
  delete(id: string): Promise<boolean>;
  listStartedBefore(time: Date, limit: number): Promise<UploadSession[]>;
}

export interface MetadataScope {
  repositories: RepositoryStore;
  blobLinks: BlobLinkStore;
  manifests: ManifestStore;
  tags: TagStore;
  uploads: UploadSessionStore;
}

/**
 * The record of truth for everything but bytes. Calls outside a transaction are each atomic;
 * `transaction` runs several as one commit (and rolls back if `fn` throws). Keep blob I/O out of `fn`.
 */
export interface MetadataStore extends MetadataScope {
  transaction<T>(fn: (tx: MetadataScope) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
