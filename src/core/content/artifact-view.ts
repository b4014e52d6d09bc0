import { isObject, type Platform } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { indexTypes, mediaTypes } from '../oci/media-types.js';
import type { BlobStore, ManifestRecord, MetadataScope } from '../ports.js';
import type { ManifestService } from './manifests.js';

/** Harbor's artifact types. */
export type ArtifactKind = 'IMAGE' | 'CHART' | 'CNAB' | 'UNKNOWN';

export interface ArtifactReference {
  childDigest: Digest;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

/** An artifact as the management API shows it: a manifest plus what its bytes and config say. */
export interface ArtifactView {
  record: ManifestRecord;
  /** The config media type for an image manifest, the manifest's own type for an index (as in Harbor). */
  mediaType: string;
  manifestMediaType: string;
  artifactType: string;
  type: ArtifactKind;
  /** Manifest bytes plus config and layers; an index adds its children's sizes. */
  size: number;
  tags: string[];
  references: ArtifactReference[];
  extraAttrs: Record<string, unknown>;
  annotations: Record<string, string>;
}

const imageConfigTypes = new Set<string>([mediaTypes.ociImageConfig, mediaTypes.dockerImageConfig]);
const cnabConfigType = 'application/vnd.cnab.config.v1+json';
const imageConfigFields = ['architecture', 'os', 'os.version', 'variant', 'created', 'author', 'config'];

interface Parsed {
  json: Record<string, unknown>;
  content: Buffer;
  index: boolean;
  config?: { mediaType: string; digest: Digest; size: number };
}

/**
 * Reads manifests and their (small) configs to describe artifacts. Configs are immutable under their
 * digest, so what is read from them is cached by digest.
 */
export class ArtifactReader {
  private readonly configs = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly manifests: ManifestService,
    private readonly metadata: MetadataScope,
    private readonly blobs: BlobStore,
    private readonly options = { maxConfigBytes: 1024 * 1024, cacheEntries: 2_000 },
  ) {}

  async view(record: ManifestRecord, withTags = true): Promise<ArtifactView> {
    const parsed = await this.parse(record);
    const configType = parsed.config?.mediaType;
    const mediaType = parsed.index ? record.mediaType : (configType ?? record.mediaType);
    const annotations = stringMap(parsed.json.annotations) ?? {};
    const type = kindOf(parsed.index, configType, annotations);
    const view: ArtifactView = {
      record,
      mediaType,
      manifestMediaType: record.mediaType,
      artifactType: record.artifactType ?? mediaType,
      type,
      size: await this.sizeOf(record, parsed, 0),
      tags: withTags ? (await this.metadata.tags.listFor(record.repository, record.digest)).sort() : [],
      references: parsed.index ? referencesOf(parsed.json) : [],
      extraAttrs: {},
      annotations,
    };
    if (parsed.config !== undefined && (type === 'IMAGE' || type === 'CHART')) {
      const config = await this.readConfig(parsed.config.digest, parsed.config.size);
      view.extraAttrs = type === 'CHART' ? config : pick(config, imageConfigFields);
    }
    return view;
  }

  private async parse(record: ManifestRecord): Promise<Parsed> {
    const content = await this.manifests.content(record);
    let json: Record<string, unknown> = {};
    try {
      const value: unknown = JSON.parse(content.toString('utf8'));
      if (isObject(value)) json = value;
    } catch {
      // Stored manifests were validated on push; a broken one is shown without details.
    }
    const parsed: Parsed = { json, content, index: indexTypes.has(record.mediaType) };
    const config = json.config;
    if (isObject(config) && typeof config.mediaType === 'string' && typeof config.digest === 'string') {
      parsed.config = {
        mediaType: config.mediaType,
        digest: config.digest as Digest,
        size: numberOr(config.size, 0),
      };
    }
    return parsed;
  }

  /** Harbor's sizes: manifest + config + layers; an index adds the full size of each child it holds. */
  private async sizeOf(record: ManifestRecord, parsed: Parsed, depth: number): Promise<number> {
    let size = parsed.content.length;
    if (!parsed.index) {
      size += parsed.config?.size ?? 0;
      for (const layer of arrayOf(parsed.json.layers)) size += numberOr(isObject(layer) ? layer.size : 0, 0);
      return size;
    }
    for (const entry of arrayOf(parsed.json.manifests)) {
      if (!isObject(entry) || typeof entry.digest !== 'string') continue;
      const child =
        depth < 2 ? await this.metadata.manifests.get(record.repository, entry.digest as Digest) : undefined;
      size +=
        child === undefined
          ? numberOr(entry.size, 0)
          : await this.sizeOf(child, await this.parse(child), depth + 1);
    }
    return size;
  }

  private async readConfig(digest: Digest, size: number): Promise<Record<string, unknown>> {
    const cached = this.configs.get(digest);
    if (cached !== undefined) return cached;
    let value: Record<string, unknown> = {};
    if (size <= this.options.maxConfigBytes) {
      const reader = await this.blobs.open(digest);
      if (reader !== undefined && reader.size <= this.options.maxConfigBytes) {
        const chunks: Buffer[] = [];
        for await (const chunk of reader.stream) chunks.push(chunk as Buffer);
        try {
          const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (isObject(parsed)) value = parsed;
        } catch {
          // Not JSON: no extra attributes.
        }
      } else {
        reader?.stream.destroy();
      }
    }
    if (this.configs.size >= this.options.cacheEntries)
      this.configs.delete(this.configs.keys().next().value!);
    this.configs.set(digest, value);
    return value;
  }
}

function kindOf(
  index: boolean,
  configType: string | undefined,
  annotations: Record<string, string>,
): ArtifactKind {
  if (index) return annotations['io.cnab.runtime_version'] !== undefined ? 'CNAB' : 'IMAGE';
  if (configType === undefined) return 'UNKNOWN';
  if (imageConfigTypes.has(configType)) return 'IMAGE';
  if (configType === mediaTypes.helmConfig) return 'CHART';
  if (configType === cnabConfigType) return 'CNAB';
  return 'UNKNOWN';
}

function referencesOf(json: Record<string, unknown>): ArtifactReference[] {
  const references: ArtifactReference[] = [];
  for (const entry of arrayOf(json.manifests)) {
    if (!isObject(entry) || typeof entry.digest !== 'string') continue;
    const reference: ArtifactReference = { childDigest: entry.digest as Digest };
    if (isObject(entry.platform)) reference.platform = entry.platform as unknown as Platform;
    const annotations = stringMap(entry.annotations);
    if (annotations !== undefined) reference.annotations = annotations;
    if (Array.isArray(entry.urls))
      reference.urls = entry.urls.filter((u): u is string => typeof u === 'string');
    references.push(reference);
  }
  return references;
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const key of keys) if (source[key] !== undefined) result[key] = source[key];
  return result;
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const result: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') result[key] = v;
  return result;
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : fallback;
}
