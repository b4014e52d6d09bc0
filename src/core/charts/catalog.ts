import { createHash } from 'node:crypto';
import type { ManifestChange, ManifestService } from '../content/manifests.js';
import type { Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import type { BlobReader, BlobStore, Clock, ManifestRecord, MetadataStore } from '../ports.js';
import { renderIndex, type ChartVersionEntry } from './index-file.js';
import { ChartError, readMetadata } from './metadata.js';
import { readSmallBlob } from './small-blob.js';
import { chartLayers, isChartManifest } from './validator.js';
import { sortVersionsDescending, versionForTag } from './versions.js';

export interface ChartCatalogOptions {
  /** How long a project's listing is trusted without a local change (changes made on other nodes). */
  revalidateMs?: number;
  /** How long one repository's versions are trusted when its listing fingerprint has not moved. */
  maxRepositoryAgeMs?: number;
}

interface RepositoryState {
  fingerprint: string;
  loadedAt: number;
  dirty: boolean;
  versions: ChartVersionEntry[];
}

interface ProjectState {
  repositories: Map<string, RepositoryState>;
  listedAt: number;
  changed: boolean;
  charts: Map<string, ChartVersionEntry[]>;
  index?: { body: Buffer; etag: string };
  refreshing?: Promise<void>;
}

/** What a chart manifest holds, by manifest digest (immutable, so cached without expiry). */
type ManifestInfo = Omit<ChartVersionEntry, 'repository' | 'tag' | 'created'> | null;

const pageSize = 1_000;
const maxInfoEntries = 20_000;
const maxConfigBytes = 1024 * 1024;

/**
 * The charts of each project, derived from its OCI chart repositories (`<project>/<chart name>`, tag =
 * version with `+` as `_`), kept per project and per repository. A manifest put or delete on this node
 * marks its repository for reloading at once; the project's repository listing (artifact count and last
 * push per repository) is re-read when this node changed something or after `revalidateMs`, so changes
 * made on other nodes show within that bound. Only repositories whose listing moved are reloaded, and
 * manifests already read are remembered by digest, so nothing is rebuilt from scratch per request.
 */
export class ChartCatalog {
  private readonly projects = new Map<string, ProjectState>();
  private readonly infos = new Map<Digest, ManifestInfo>();
  private readonly revalidateMs: number;
  private readonly maxRepositoryAgeMs: number;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly manifests: ManifestService,
    private readonly clock: Clock,
    options: ChartCatalogOptions = {},
  ) {
    this.revalidateMs = options.revalidateMs ?? 5_000;
    this.maxRepositoryAgeMs = options.maxRepositoryAgeMs ?? 60_000;
    manifests.onChange((change) => this.changed(change));
  }

  /** Charts of a project by name (sorted), each newest version first. */
  async charts(project: string): Promise<Map<string, ChartVersionEntry[]>> {
    return (await this.fresh(project)).charts;
  }

  /** The project's index.yaml and its ETag; rendered again only after a change. */
  async index(project: string): Promise<{ body: Buffer; etag: string }> {
    const state = await this.fresh(project);
    if (state.index === undefined) {
      const body = renderIndex(state.charts, this.clock.now());
      state.index = { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 40)}"` };
    }
    return state.index;
  }

  async versions(project: string, name: string): Promise<ChartVersionEntry[] | undefined> {
    const versions = (await this.charts(project)).get(name);
    return versions === undefined || versions.length === 0 ? undefined : versions;
  }

  async find(project: string, name: string, version: string): Promise<ChartVersionEntry | undefined> {
    return (await this.versions(project, name))?.find((entry) => entry.metadata.version === version);
  }

  /** The chart a classic-repository file name (`<name>-<version>.tgz`) stands for. */
  async findByFileName(project: string, fileName: string): Promise<ChartVersionEntry | undefined> {
    if (!fileName.endsWith('.tgz')) return undefined;
    const stem = fileName.slice(0, -'.tgz'.length);
    for (const [name, versions] of await this.charts(project)) {
      if (!stem.startsWith(`${name}-`)) continue;
      const version = stem.slice(name.length + 1);
      const hit = versions.find((entry) => entry.metadata.version === version);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  /** Opens a chart or provenance blob of an entry. */
  open(blob: { digest: Digest }): Promise<BlobReader | undefined> {
    return this.blobs.open(blob.digest);
  }

  private changed(change: ManifestChange): void {
    const slash = change.repository.indexOf('/');
    if (slash === -1) return;
    const state = this.projects.get(change.repository.slice(0, slash));
    if (state === undefined) return;
    state.changed = true;
    const repository = state.repositories.get(change.repository);
    if (repository !== undefined) repository.dirty = true;
  }

  private async fresh(project: string): Promise<ProjectState> {
    let state = this.projects.get(project);
    if (state === undefined) {
      state = { repositories: new Map(), listedAt: 0, changed: true, charts: new Map() };
      if (this.projects.size >= 10_000) this.projects.clear();
      this.projects.set(project, state);
    }
    const now = this.clock.now().getTime();
    if (!state.changed && now - state.listedAt < this.revalidateMs) return state;
    const current = state;
    current.refreshing ??= this.refresh(project, current).finally(() => (current.refreshing = undefined));
    await current.refreshing;
    return current;
  }

  private async refresh(project: string, state: ProjectState): Promise<void> {
    state.changed = false;
    try {
      await this.reload(project, state);
    } catch (error) {
      state.changed = true; // try again on the next request
      throw error;
    }
  }

  private async reload(project: string, state: ProjectState): Promise<void> {
    const startedAt = this.clock.now().getTime();
    const listed = new Map<string, string>();
    for (let offset = 0; ; offset += pageSize) {
      const page = await this.metadata.repositories.listInProject(project, { offset, limit: pageSize });
      for (const summary of page.items) {
        if (summary.name.startsWith(`${project}/`) && !summary.name.slice(project.length + 1).includes('/')) {
          listed.set(summary.name, `${summary.artifactCount}|${summary.updatedAt.getTime()}`);
        }
      }
      if (page.items.length < pageSize || offset + pageSize >= page.total) break;
    }
    let moved = false;
    for (const name of [...state.repositories.keys()]) {
      if (!listed.has(name)) {
        state.repositories.delete(name);
        moved = true;
      }
    }
    for (const [name, fingerprint] of listed) {
      const known = state.repositories.get(name);
      if (
        known !== undefined &&
        !known.dirty &&
        known.fingerprint === fingerprint &&
        startedAt - known.loadedAt < this.maxRepositoryAgeMs
      ) {
        continue;
      }
      // Cleared before reading, so that a change arriving meanwhile marks it dirty again.
      if (known !== undefined) known.dirty = false;
      const versions = await this.load(name);
      const previous = state.repositories.get(name);
      state.repositories.set(name, {
        fingerprint,
        loadedAt: startedAt,
        dirty: previous?.dirty ?? false,
        versions,
      });
      if (previous === undefined || !sameVersions(previous.versions, versions)) moved = true;
    }
    state.listedAt = startedAt;
    if (!moved) return;
    const charts = new Map<string, ChartVersionEntry[]>();
    for (const repository of state.repositories.values()) {
      for (const entry of repository.versions) {
        const list = charts.get(entry.metadata.name) ?? [];
        list.push(entry);
        charts.set(entry.metadata.name, list);
      }
    }
    for (const list of charts.values()) sortVersionsDescending(list, (entry) => entry.metadata.version);
    state.charts = new Map([...charts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    state.index = undefined;
  }

  /** The chart versions of one repository: its tags that are versions of the chart the repository is named after. */
  private async load(repository: string): Promise<ChartVersionEntry[]> {
    const chartName = repository.slice(repository.indexOf('/') + 1);
    const versions: ChartVersionEntry[] = [];
    let last: string | undefined;
    for (;;) {
      const tags = await this.metadata.tags.list(repository, {
        limit: pageSize,
        ...(last !== undefined && { last }),
      });
      for (const tag of tags) {
        const version = versionForTag(tag);
        if (version === undefined) continue;
        const digest = await this.metadata.tags.resolve(repository, tag);
        const record =
          digest === undefined ? undefined : await this.metadata.manifests.get(repository, digest);
        if (record === undefined) continue;
        const info = await this.info(record);
        if (info === null || info.metadata.name !== chartName || info.metadata.version !== version) continue;
        versions.push({ ...info, repository, tag, created: record.createdAt });
      }
      if (tags.length < pageSize) break;
      last = tags[tags.length - 1];
    }
    return versions;
  }

  private async info(record: ManifestRecord): Promise<ManifestInfo> {
    const known = this.infos.get(record.digest);
    if (known !== undefined) return known;
    const info = await this.readInfo(record);
    if (this.infos.size >= maxInfoEntries) this.infos.clear();
    this.infos.set(record.digest, info);
    return info;
  }

  private async readInfo(record: ManifestRecord): Promise<ManifestInfo> {
    if (
      record.artifactType !== undefined &&
      record.artifactType !== 'application/vnd.cncf.helm.config.v1+json'
    )
      return null;
    try {
      const manifest = parseManifest(await this.manifests.content(record), record.mediaType);
      if (!isChartManifest(manifest) || manifest.config === undefined) return null;
      const layers = chartLayers(manifest);
      const config = await readSmallBlob(this.blobs, manifest.config.digest, maxConfigBytes);
      if (config === undefined || config === 'too-large') return null;
      const raw: unknown = JSON.parse(config.toString('utf8'));
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
      const metadata = readMetadata(raw as Record<string, unknown>, 'chart config');
      return { metadata, manifestDigest: record.digest, ...layers };
    } catch (error) {
      if (
        error instanceof ChartError ||
        error instanceof SyntaxError ||
        (error as { name?: string }).name === 'RegistryError'
      )
        return null;
      throw error;
    }
  }
}

function sameVersions(a: ChartVersionEntry[], b: ChartVersionEntry[]): boolean {
  return (
    a.length === b.length &&
    a.every((entry, i) => entry.manifestDigest === b[i]!.manifestDigest && entry.tag === b[i]!.tag)
  );
}
