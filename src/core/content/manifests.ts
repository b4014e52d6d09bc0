import { createHash } from 'node:crypto';
import { RegistryError } from '../errors.js';
import { digestAlgorithm, makeDigest, type Digest } from '../oci/digest.js';
import { parseManifest, type ParsedManifest } from '../oci/manifest.js';
import { requireTag, type Reference } from '../oci/names.js';
import type { BlobStore, Clock, ManifestRecord, MetadataScope, MetadataStore } from '../ports.js';
import { BlobPins } from '../lifecycle/blob-pins.js';
import { enforceQuota } from '../lifecycle/quota.js';
import { ManifestCache } from './manifest-cache.js';
import { readPage, type PageRequest, type PageResult } from './pagination.js';

export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  size: number;
  /** Only read for GET; HEAD needs the record alone. */
  content?: Buffer;
}

export interface PutManifestResult {
  digest: Digest;
  subject?: Digest;
  tags: string[];
}

export interface ManifestServiceOptions {
  maxManifestBytes: number;
  cacheBytes: number;
}

/** A check a manifest must pass before anything is stored (charts: the archive must be a valid chart). */
export interface ManifestValidator {
  /** Throws a RegistryError (MANIFEST_INVALID) to refuse the manifest. */
  validate(repository: string, manifest: ParsedManifest): Promise<void>;
}

/** A rule on which tags may move or go (immutable tags); throws a RegistryError (DENIED) to refuse. */
export interface TagGuard {
  /** Inside the commit's transaction, before `tags` are pointed at `digest`. */
  checkPut(tx: MetadataScope, repository: string, digest: Digest, tags: string[]): Promise<void>;
  /** Before the tag or manifest `reference` names is deleted. */
  checkDelete(repository: string, reference: Reference): Promise<void>;
}

/** What changed in a repository; listeners keep derived views (the chart index) current. */
export interface ManifestChange {
  repository: string;
  kind: 'put' | 'delete';
}

/** Manifest push, pull and delete, and the referrers index. */
export class ManifestService {
  private readonly cache: ManifestCache;
  /** Pins manifest bytes against a concurrent GC between writing and linking them. */
  private readonly pins: BlobPins;
  private readonly validators: ManifestValidator[] = [];
  private readonly tagGuards: TagGuard[] = [];
  private readonly listeners = new Set<(change: ManifestChange) => void>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
    private readonly options: ManifestServiceOptions,
  ) {
    this.cache = new ManifestCache(options.cacheBytes);
    this.pins = new BlobPins(metadata.gc, clock);
  }

  addValidator(validator: ManifestValidator): void {
    this.validators.push(validator);
  }

  addTagGuard(guard: TagGuard): void {
    this.tagGuards.push(guard);
  }

  /** Calls `listener` after every committed manifest put or delete on this node; returns the unsubscribe. */
  onChange(listener: (change: ManifestChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(repository: string, kind: ManifestChange['kind']): void {
    for (const listener of this.listeners) listener({ repository, kind });
  }

  /**
   * Stores exact manifest bytes under `reference` and any extra `tags`. The bytes are written to the
   * blob store first; the metadata commit then checks, in one transaction, that every referenced blob
   * and child manifest is present, so a manifest row never points at missing content.
   */
  async put(
    repository: string,
    reference: Reference,
    content: Buffer,
    contentType: string | undefined,
    extraTags: string[] = [],
  ): Promise<PutManifestResult> {
    if (content.length > this.options.maxManifestBytes) {
      throw new RegistryError(
        'MANIFEST_TOO_LARGE',
        `manifest exceeds ${this.options.maxManifestBytes} bytes`,
      );
    }
    const algorithm = reference.kind === 'digest' ? digestAlgorithm(reference.digest) : 'sha256';
    const digest = makeDigest(algorithm, createHash(algorithm).update(content).digest('hex'));
    if (reference.kind === 'digest' && reference.digest !== digest) {
      throw new RegistryError('DIGEST_INVALID', 'manifest digest does not match its content', {
        expected: reference.digest,
        actual: digest,
      });
    }
    const tags = [
      ...new Set([...(reference.kind === 'tag' ? [reference.tag] : []), ...extraTags.map(requireTag)]),
    ];
    const manifest = parseManifest(content, contentType);
    for (const validator of this.validators) await validator.validate(repository, manifest);

    const pin = await this.pins.pin(digest);
    await this.blobs.putVerified(digest, content).catch(pin.fail);
    const now = this.clock.now();
    const record: ManifestRecord = {
      repository,
      digest,
      mediaType: manifest.mediaType,
      size: content.length,
      createdAt: now,
      ...(manifest.artifactType !== undefined && { artifactType: manifest.artifactType }),
      ...(manifest.subject !== undefined && { subject: manifest.subject.digest }),
      ...(manifest.annotations !== undefined && { annotations: manifest.annotations }),
    };
    const blobDigests = [...new Set(manifest.blobs.map((b) => b.digest))];
    const children = [...new Set(manifest.manifests.map((m) => m.digest))];
    await this.metadata
      .transaction(async (tx) => {
        for (const guard of this.tagGuards) await guard.checkPut(tx, repository, digest, tags);
        const missingBlobs = await tx.blobLinks.missing(repository, blobDigests);
        if (missingBlobs.length > 0) {
          throw new RegistryError(
            'MANIFEST_BLOB_UNKNOWN',
            'manifest references a blob unknown to this repository',
            { digest: missingBlobs[0] },
          );
        }
        const missingChildren = await tx.manifests.missing(repository, children);
        if (missingChildren.length > 0) {
          throw new RegistryError(
            'MANIFEST_BLOB_UNKNOWN',
            'index references a manifest unknown to this repository',
            { digest: missingChildren[0] },
          );
        }
        await tx.blobLinks.link(repository, digest, content.length);
        await tx.manifests.put({ ...record, blobs: blobDigests, children });
        for (const tag of tags) await tx.tags.set(repository, tag, digest, now);
        await enforceQuota(tx, repository);
        await tx.gc.unpin(pin.holder);
      })
      .catch(pin.fail);
    this.cache.set(digest, content);
    this.changed(repository, 'put');
    return { digest, tags, ...(manifest.subject !== undefined && { subject: manifest.subject.digest }) };
  }

  async resolve(repository: string, reference: Reference): Promise<ManifestRecord> {
    const digest =
      reference.kind === 'digest'
        ? reference.digest
        : await this.metadata.tags.resolve(repository, reference.tag);
    const record = digest === undefined ? undefined : await this.metadata.manifests.get(repository, digest);
    if (record === undefined) {
      if (!(await this.metadata.repositories.exists(repository))) {
        throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', {
          name: repository,
        });
      }
      throw new RegistryError(
        'MANIFEST_UNKNOWN',
        'manifest unknown',
        reference.kind === 'tag' ? { tag: reference.tag } : { digest: reference.digest },
      );
    }
    return record;
  }

  /** The manifest's exact bytes. */
  async content(record: ManifestRecord): Promise<Buffer> {
    const cached = this.cache.get(record.digest);
    if (cached !== undefined) return cached;
    const reader = await this.blobs.open(record.digest);
    if (reader === undefined)
      throw new RegistryError('MANIFEST_UNKNOWN', 'manifest content is missing', { digest: record.digest });
    const chunks: Buffer[] = [];
    for await (const chunk of reader.stream) chunks.push(chunk as Buffer);
    const content = Buffer.concat(chunks);
    this.cache.set(record.digest, content);
    return content;
  }

  /** By tag: removes the tag. By digest: removes the manifest and every tag pointing at it. */
  async delete(repository: string, reference: Reference): Promise<void> {
    for (const guard of this.tagGuards) await guard.checkDelete(repository, reference);
    if (reference.kind === 'tag') {
      if (!(await this.metadata.tags.delete(repository, reference.tag))) {
        await this.resolve(repository, reference); // throws NAME_UNKNOWN or MANIFEST_UNKNOWN
      }
      this.changed(repository, 'delete');
      return;
    }
    const digest = reference.digest;
    const removed = await this.metadata.transaction(async (tx) => {
      if (!(await tx.manifests.delete(repository, digest))) return false;
      await tx.tags.deleteFor(repository, digest);
      await tx.blobLinks.unlink(repository, digest);
      return true;
    });
    if (!removed) await this.resolve(repository, reference);
    this.changed(repository, 'delete');
  }

  /**
   * Manifests whose `subject` is `subject`, optionally of one artifact type, in digest order so that a
   * page cursor (`last`) stays stable while referrers are added.
   */
  async referrers(
    repository: string,
    subject: Digest,
    artifactType: string | undefined,
    request: PageRequest = {},
  ): Promise<PageResult<ManifestRecord>> {
    const page = readPage(request);
    if (!(await this.metadata.repositories.exists(repository))) {
      throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { name: repository });
    }
    const all = await this.metadata.manifests.referrers(repository, subject, artifactType);
    const after = all
      .filter((record) => page.last === undefined || record.digest > page.last)
      .sort((a, b) => (a.digest < b.digest ? -1 : 1));
    const items = after.slice(0, page.limit);
    return after.length > items.length ? { items, next: items[items.length - 1]!.digest } : { items };
  }
}
