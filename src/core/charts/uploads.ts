import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { ManifestService } from '../content/manifests.js';
import { RegistryError } from '../errors.js';
import { makeDigest, type Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { mediaTypes } from '../oci/media-types.js';
import { isRepositoryName, isTag, requireTag } from '../oci/names.js';
import type { BlobStore, Clock, MetadataStore } from '../ports.js';
import { BlobPins } from '../lifecycle/blob-pins.js';
import { chartArchiveLimits, inspectChartArchive } from './archive.js';
import { chartConfigBytes } from './go-json.js';
import { ChartError, type ChartMetadata } from './metadata.js';
import { chartAnnotations, chartManifestBytes, rfc3339Utc, type BlobRef } from './oci.js';
import { parseProvenance } from './provenance.js';
import { chartLayers, isChartManifest } from './validator.js';
import { tagForVersion } from './versions.js';

export interface UploadResult {
  name: string;
  version: string;
  repository: string;
  digest: Digest;
  /** An existing version was replaced (`force`). */
  replaced: boolean;
}

const maxProvenanceBytes = 1024 * 1024;

/**
 * The ChartMuseum-style upload API over OCI storage: a chart archive (and its provenance file) uploaded
 * here is stored exactly as `helm push` would store it, in the repository `<project>/<chart name>` under
 * the tag `<version with + as _>`, so it can be pulled either way. Authorization is the caller's job.
 */
export class ChartUploadService {
  /** Pins each written blob against a concurrent GC until the transaction that links it. */
  private readonly pins: BlobPins;

  constructor(
    private readonly blobs: BlobStore,
    private readonly metadata: MetadataStore,
    private readonly manifests: ManifestService,
    private readonly clock: Clock,
  ) {
    this.pins = new BlobPins(metadata.gc, clock);
  }

  /** Stores an uploaded chart. An existing version is a CONFLICT unless `force`. */
  async upload(
    project: string,
    source: Readable,
    options: { provenance?: Buffer; force: boolean },
  ): Promise<UploadResult> {
    const holders: string[] = [];
    try {
      return await this.uploadPinned(project, source, options, holders);
    } finally {
      // Linked blobs were unpinned in their transaction; these are pins of an upload that failed.
      for (const holder of holders) await this.metadata.gc.unpin(holder).catch(() => undefined);
    }
  }

  private async uploadPinned(
    project: string,
    source: Readable,
    options: { provenance?: Buffer; force: boolean },
    holders: string[],
  ): Promise<UploadResult> {
    const chart = await this.stage(source, holders);
    const metadata = await this.inspect(chart.digest);
    const { repository, tag } = locate(project, metadata);
    const existing = await this.metadata.tags.resolve(repository, tag);
    if (existing !== undefined && !options.force) throw new RegistryError('CONFLICT', 'file already exists');

    const config = await this.storeSmall(chartConfigBytes(metadata), holders);
    const provenance =
      options.provenance === undefined
        ? undefined
        : await this.storeSmall(checkProvenance(options.provenance), holders);
    await this.link(repository, [chart, config, ...(provenance === undefined ? [] : [provenance])], holders);
    const manifest = chartManifestBytes({
      config,
      chart,
      ...(provenance !== undefined && { provenance }),
      annotations: chartAnnotations(metadata, rfc3339Utc(this.clock.now())),
    });
    const digest = await this.putManifest(repository, tag, manifest, existing);
    return {
      name: metadata.name,
      version: metadata.version,
      repository,
      digest,
      replaced: existing !== undefined,
    };
  }

  /**
   * Adds a provenance file to a stored chart version (named inside the file): the chart's manifest is
   * written again with the provenance layer. An existing provenance is a CONFLICT unless `force`.
   */
  async uploadProvenance(project: string, content: Buffer, force: boolean): Promise<UploadResult> {
    const named = parseProvenance(checkProvenance(content));
    if (named === undefined) throw new RegistryError('BAD_REQUEST', 'invalid provenance file');
    const repository = `${project}/${named.name}`;
    const tag = tagForVersion(named.version);
    const existing =
      isRepositoryName(repository) && isTag(tag)
        ? await this.metadata.tags.resolve(repository, tag)
        : undefined;
    const record =
      existing === undefined ? undefined : await this.metadata.manifests.get(repository, existing);
    if (record === undefined) {
      throw new RegistryError(
        'NOT_FOUND',
        `chart ${named.name}-${named.version} not found: upload the chart before its provenance file`,
      );
    }
    const parsed = parseManifest(await this.manifests.content(record), record.mediaType);
    if (!isChartManifest(parsed) || parsed.config === undefined)
      throw new RegistryError('CONFLICT', `${repository}:${tag} is not a chart`);
    const layers = chartLayers(parsed);
    if (layers.provenance !== undefined && !force) throw new RegistryError('CONFLICT', 'file already exists');
    const holders: string[] = [];
    try {
      const provenance = await this.storeSmall(content, holders);
      await this.link(repository, [provenance], holders);
      return await this.replaceWithProvenance(
        repository,
        tag,
        named,
        parsed,
        layers,
        provenance,
        record.digest,
      );
    } finally {
      for (const holder of holders) await this.metadata.gc.unpin(holder).catch(() => undefined);
    }
  }

  private async replaceWithProvenance(
    repository: string,
    tag: string,
    named: { name: string; version: string },
    parsed: ReturnType<typeof parseManifest>,
    layers: ReturnType<typeof chartLayers>,
    provenance: BlobRef,
    previous: Digest,
  ): Promise<UploadResult> {
    const manifest = chartManifestBytes({
      config: parsed.config!,
      chart: layers.chart,
      provenance,
      annotations: parsed.annotations ?? {},
    });
    const digest = await this.putManifest(repository, tag, manifest, previous);
    return {
      name: named.name,
      version: named.version,
      repository,
      digest,
      replaced: layers.provenance !== undefined,
    };
  }

  /** Removes a chart version (its manifest and every tag on it). */
  async delete(project: string, name: string, version: string): Promise<void> {
    const repository = `${project}/${name}`;
    const tag = tagForVersion(version);
    const digest =
      isRepositoryName(repository) && isTag(tag)
        ? await this.metadata.tags.resolve(repository, tag)
        : undefined;
    if (digest === undefined) throw new RegistryError('NOT_FOUND', `chart ${name}-${version} not found`);
    await this.manifests.delete(repository, { kind: 'digest', digest });
  }

  /** Streams the archive into the blob store, hashing it on the way; nothing is held in memory. */
  private async stage(source: Readable, holders: string[]): Promise<BlobRef> {
    const hash = createHash('sha256');
    let size = 0;
    const limit = chartArchiveLimits.maxDecompressedBytes;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > limit)
          return done(new ChartError(`chart archive is larger than ${limit / 1024 / 1024} MiB`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    source.on('error', (error) => meter.destroy(error));
    const id = await this.blobs.startUpload();
    try {
      const appended = await this.blobs.appendUpload(id, source.pipe(meter), 0);
      if (!appended.ok) throw new Error(`chart upload could not be staged (${appended.reason})`);
      if (size === 0) throw new ChartError('chart archive is empty');
      const digest = makeDigest('sha256', hash.digest('hex'));
      holders.push((await this.pins.pin(digest)).holder);
      const committed = await this.blobs.commitUpload(id, digest);
      if (!committed.ok) throw new Error(`chart upload could not be committed (${committed.reason})`);
      return { digest, size };
    } catch (error) {
      await this.blobs.cancelUpload(id).catch(() => undefined);
      throw error instanceof ChartError ? new RegistryError('BAD_REQUEST', error.message) : error;
    }
  }

  private async inspect(digest: Digest): Promise<ChartMetadata> {
    const reader = await this.blobs.open(digest);
    if (reader === undefined) throw new Error('staged chart vanished from the blob store');
    try {
      return (await inspectChartArchive(reader.stream)).metadata;
    } catch (error) {
      if (error instanceof ChartError) throw new RegistryError('BAD_REQUEST', error.message);
      throw error;
    }
  }

  private async storeSmall(bytes: Buffer, holders: string[]): Promise<BlobRef> {
    const digest = makeDigest('sha256', createHash('sha256').update(bytes).digest('hex'));
    holders.push((await this.pins.pin(digest)).holder);
    await this.blobs.putVerified(digest, bytes);
    return { digest, size: bytes.length };
  }

  /** Links the blobs and releases their pins in one transaction, so GC never sees them unprotected. */
  private async link(repository: string, blobs: BlobRef[], holders: string[]): Promise<void> {
    await this.metadata.transaction(async (tx) => {
      for (const blob of blobs) await tx.blobLinks.link(repository, blob.digest, blob.size);
      for (const holder of holders) await tx.gc.unpin(holder);
    });
    holders.length = 0;
  }

  /** Tags the new manifest and retires the one it replaces when nothing else points at it. */
  private async putManifest(
    repository: string,
    tag: string,
    manifest: Buffer,
    previous: Digest | undefined,
  ): Promise<Digest> {
    const reference = { kind: 'tag' as const, tag: requireTag(tag) };
    const { digest } = await this.manifests.put(repository, reference, manifest, mediaTypes.ociManifest);
    if (
      previous !== undefined &&
      previous !== digest &&
      (await this.metadata.tags.listFor(repository, previous)).length === 0
    ) {
      await this.manifests.delete(repository, { kind: 'digest', digest: previous });
    }
    return digest;
  }
}

function locate(project: string, metadata: ChartMetadata): { repository: string; tag: string } {
  const repository = `${project}/${metadata.name}`;
  if (!isRepositoryName(repository)) {
    throw new RegistryError(
      'BAD_REQUEST',
      `chart name "${metadata.name}" cannot name an OCI repository (lower-case letters, digits and . _ - separators only)`,
    );
  }
  const tag = tagForVersion(metadata.version);
  if (!isTag(tag))
    throw new RegistryError('BAD_REQUEST', `chart version "${metadata.version}" cannot be an OCI tag`);
  return { repository, tag };
}

function checkProvenance(content: Buffer): Buffer {
  if (content.length > maxProvenanceBytes)
    throw new RegistryError('BAD_REQUEST', 'provenance file is larger than 1 MiB');
  return content;
}
