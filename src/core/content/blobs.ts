import type { Readable } from 'node:stream';
import { RegistryError } from '../errors.js';
import { requireDigest, type Digest } from '../oci/digest.js';
import type { BlobReader, BlobStore, ByteRange, Clock, MetadataStore } from '../ports.js';
import { BlobPins } from '../lifecycle/blob-pins.js';
import type { CallerAccess } from './access.js';

export interface BlobDescription {
  digest: Digest;
  size: number;
}

export type MountOutcome = { mounted: true; digest: Digest } | { mounted: false; uploadId: string };

/** Blob reads, deletes, uploads and cross-repository mounts within repositories. */
export class BlobService {
  /** Pins a digest against a concurrent GC between publishing and linking it. */
  private readonly pins: BlobPins;

  constructor(
    private readonly blobs: BlobStore,
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
  ) {
    this.pins = new BlobPins(metadata.gc, clock);
  }

  /** The blob as pullable from `repository`: it must have been pushed or mounted there. */
  async describe(repository: string, digest: Digest): Promise<BlobDescription> {
    const link = await this.metadata.blobLinks.get(repository, digest);
    if (link === undefined) throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
    return { digest, size: link.size };
  }

  /** Opens the blob (or a validated range of it). */
  async open(blob: BlobDescription, range?: ByteRange): Promise<BlobReader> {
    const reader = await this.blobs.open(blob.digest, range);
    if (reader === undefined)
      throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest: blob.digest });
    return reader;
  }

  redirectUrl(digest: Digest): Promise<string | undefined> {
    return this.blobs.redirectUrl ? this.blobs.redirectUrl(digest) : Promise.resolve(undefined);
  }

  /** Unlinks a blob from a repository; its bytes go when garbage collection finds nothing else using them. */
  async delete(repository: string, digest: Digest): Promise<void> {
    const removed = await this.metadata.blobLinks.unlink(repository, digest);
    if (!removed) throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
  }

  /**
   * `POST /blobs/uploads/?mount=` with or without `from`: links the blob when the caller can read a
   * repository that holds it, otherwise opens an ordinary upload session. Neither outcome is an error.
   */
  async mountOrStart(
    repository: string,
    digest: Digest,
    from: string | undefined,
    access: CallerAccess,
  ): Promise<MountOutcome> {
    const candidates =
      from !== undefined ? [from] : await this.metadata.blobLinks.repositoriesHolding(digest, 20);
    for (const source of candidates) {
      if (source === repository) continue;
      const link = await this.metadata.blobLinks.get(source, digest);
      if (link === undefined || !(await access.mayRead(source))) continue;
      // The source link is checked again in the transaction that creates the new one: while it exists
      // GC cannot condemn the blob, so the new link never points at bytes being deleted.
      // The two repositories are touched in byte order: stores that lock each repository on first touch
      // (PostgreSQL) then take the locks in one global order, so mounts in opposite directions between
      // the same repositories cannot deadlock.
      const mounted = await this.metadata.transaction(async (tx) => {
        if (repository < source) await tx.blobLinks.get(repository, digest);
        const held = await tx.blobLinks.get(source, digest);
        if (held !== undefined) await tx.blobLinks.link(repository, digest, held.size);
        return held !== undefined;
      });
      if (mounted) return { mounted: true, digest };
    }
    const existing = await this.metadata.blobLinks.get(repository, digest);
    if (existing !== undefined) return { mounted: true, digest };
    return { mounted: false, uploadId: await this.startUpload(repository) };
  }

  async startUpload(repository: string): Promise<string> {
    const id = await this.blobs.startUpload();
    await this.metadata.uploads.create({ id, repository, startedAt: this.clock.now() });
    return id;
  }

  /** Bytes received so far by an upload of this repository. */
  async uploadOffset(repository: string, id: string): Promise<number> {
    await this.requireSession(repository, id);
    const status = await this.blobs.uploadStatus(id);
    if (status === undefined) throw uploadUnknown(id);
    return status.offset;
  }

  /**
   * Appends a chunk. `start` is the chunk's first byte from Content-Range, or undefined for a streamed
   * PATCH (the Docker engine's way), which continues wherever the upload is.
   */
  async append(repository: string, id: string, source: Readable, start: number | undefined): Promise<number> {
    await this.requireSession(repository, id);
    const offset = start ?? (await this.blobs.uploadStatus(id))?.offset;
    if (offset === undefined) throw uploadUnknown(id);
    const result = await this.blobs.appendUpload(id, source, offset);
    if (result.ok) return result.offset;
    if (result.reason === 'unknown-upload') throw uploadUnknown(id);
    throw new RegistryError('RANGE_INVALID', `chunk must start at byte ${result.offset}`, {
      offset: result.offset,
    });
  }

  /** Completes an upload: verifies the digest, publishes the blob and links it to the repository. */
  async finish(repository: string, id: string, digestParam: string | undefined): Promise<BlobDescription> {
    await this.requireSession(repository, id);
    if (digestParam === undefined)
      throw new RegistryError('DIGEST_INVALID', 'digest query parameter is required');
    const digest = requireDigest(digestParam);
    // Publishing drops this upload's copy when the content address exists: the pin keeps GC from
    // deleting that file until the link below is committed (see docs/architecture.md).
    const pin = await this.pins.pin(digest);
    const result = await this.blobs.commitUpload(id, digest).catch(pin.fail);
    if (!result.ok) {
      await pin.fail(undefined).catch(() => undefined);
      if (result.reason === 'unknown-upload') throw uploadUnknown(id);
      await this.cancel(repository, id);
      throw new RegistryError('DIGEST_INVALID', 'uploaded content does not match digest', {
        expected: digest,
        actual: result.actual,
      });
    }
    await this.metadata
      .transaction(async (tx) => {
        await tx.blobLinks.link(repository, digest, result.size);
        await tx.uploads.delete(id);
        await tx.gc.unpin(pin.holder);
      })
      .catch(pin.fail);
    return { digest, size: result.size };
  }

  async cancel(repository: string, id: string): Promise<void> {
    await this.requireSession(repository, id);
    await this.metadata.uploads.delete(id);
    await this.blobs.cancelUpload(id);
  }

  private async requireSession(repository: string, id: string): Promise<void> {
    const session = await this.metadata.uploads.get(id);
    if (session === undefined || session.repository !== repository) throw uploadUnknown(id);
  }
}

function uploadUnknown(id: string): RegistryError {
  return new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', {
    id: id.slice(0, 100),
  });
}
