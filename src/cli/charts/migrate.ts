import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { inspectChartArchive } from '../../core/charts/archive.js';
import { rfc3339Utc } from '../../core/charts/oci.js';
import { isStrictSemver, tagForVersion } from '../../core/charts/versions.js';
import type { RegistryCredentials } from '../docker-config.js';
import type { RegistryClient } from '../registry-client.js';
import { chartLayersOf, pushChart } from './oci-chart.js';

export type MigrationOutcome = 'migrated' | 'skipped' | 'failed';

export interface MigrationEvent {
  outcome: MigrationOutcome;
  name: string;
  version: string;
  detail?: string;
}

export interface MigrationSummary {
  total: number;
  migrated: number;
  skipped: number;
  failed: MigrationEvent[];
}

export interface MigrationOptions {
  /** The classic repository's URL (where index.yaml is). */
  from: string;
  credentials?: RegistryCredentials;
  client: RegistryClient;
  /** Repository path under which `<chart name>` repositories are written (`project`). */
  toPath: string;
  fetch?: typeof fetch;
  onStart?: (total: number) => void;
  onEvent?: (event: MigrationEvent) => void;
}

interface IndexVersion {
  name: string;
  version: string;
  url?: string;
  digest?: string;
  created?: string;
}

/**
 * Copies every chart version of a classic Helm repository into OCI charts: reads index.yaml, downloads
 * each archive (and its `.prov` when the repository has one), checks it against the index digest, and
 * pushes it as `helm push` would. Idempotent, hence resumable: a version already stored with the same
 * archive digest is skipped, and blobs already uploaded are not sent again.
 */
export async function migrateRepository(options: MigrationOptions): Promise<MigrationSummary> {
  const doFetch = options.fetch ?? fetch;
  const base = options.from.endsWith('/') ? options.from : `${options.from}/`;
  const origin = new URL(base).origin;
  const authorization =
    options.credentials === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`;
  // Credentials go only to the repository's own host, as Helm sends them.
  const get = (url: URL): Promise<Response> =>
    doFetch(url, {
      headers: authorization !== undefined && url.origin === origin ? { Authorization: authorization } : {},
    });

  const indexResponse = await get(new URL('index.yaml', base));
  if (indexResponse.status !== 200) throw new Error(`${base}index.yaml: HTTP ${indexResponse.status}`);
  const versions = readIndex(await indexResponse.text());
  options.onStart?.(versions.length);
  const summary: MigrationSummary = { total: versions.length, migrated: 0, skipped: 0, failed: [] };
  for (const entry of versions) {
    let event: MigrationEvent;
    try {
      event = await migrateOne(entry, options, base, get);
    } catch (error) {
      event = {
        outcome: 'failed',
        name: entry.name,
        version: entry.version,
        detail: (error as Error).message,
      };
    }
    if (event.outcome === 'failed') summary.failed.push(event);
    else summary[event.outcome] += 1;
    options.onEvent?.(event);
  }
  return summary;
}

async function migrateOne(
  entry: IndexVersion,
  options: MigrationOptions,
  base: string,
  get: (url: URL) => Promise<Response>,
): Promise<MigrationEvent> {
  const { name, version } = entry;
  const fail = (detail: string): MigrationEvent => ({ outcome: 'failed', name, version, detail });
  if (!isStrictSemver(version)) return fail(`version "${version}" is not a SemVer 2 version`);
  if (entry.url === undefined) return fail('the index gives no URL for this version');
  const repository = `${options.toPath}/${name}`;
  const stored = await options.client.manifest(repository, tagForVersion(version));
  const storedChart =
    stored === undefined
      ? undefined
      : chartLayersOf(stored.bytes, `${repository}:${tagForVersion(version)}`).chart;
  const expected =
    entry.digest === undefined || entry.digest === ''
      ? undefined
      : `sha256:${entry.digest.replace(/^sha256:/, '')}`;
  if (storedChart !== undefined && expected !== undefined) {
    return storedChart === expected
      ? { outcome: 'skipped', name, version, detail: 'already present' }
      : fail(`${repository}:${tagForVersion(version)} already holds a different archive (${storedChart})`);
  }

  const url = new URL(entry.url, base);
  const response = await get(url);
  if (response.status !== 200) return fail(`download of ${url.href} answered HTTP ${response.status}`);
  const archive = Buffer.from(await response.arrayBuffer());
  const actual = `sha256:${createHash('sha256').update(archive).digest('hex')}`;
  if (expected !== undefined && actual !== expected)
    return fail(`digest mismatch: the index says ${expected}, the archive is ${actual}`);
  if (storedChart !== undefined) {
    return storedChart === actual
      ? { outcome: 'skipped', name, version, detail: 'already present' }
      : fail(`already holds a different archive (${storedChart})`);
  }
  const { metadata } = await inspectChartArchive(Readable.from([archive]));
  if (metadata.name !== name || metadata.version !== version) {
    return fail(`the archive holds ${metadata.name} ${metadata.version}, not what the index says`);
  }
  const provenanceResponse = await get(new URL(`${url.href}.prov`));
  let provenance: Buffer | undefined;
  if (provenanceResponse.status === 200) provenance = Buffer.from(await provenanceResponse.arrayBuffer());
  else if (provenanceResponse.status !== 404)
    return fail(`download of ${url.href}.prov answered HTTP ${provenanceResponse.status}`);
  else await provenanceResponse.arrayBuffer().catch(() => undefined);

  const created =
    entry.created !== undefined && !Number.isNaN(Date.parse(entry.created))
      ? new Date(entry.created)
      : new Date();
  await pushChart(options.client, options.toPath, archive, {
    created: rfc3339Utc(created),
    ...(provenance !== undefined && { provenance }),
  });
  return {
    outcome: 'migrated',
    name,
    version,
    ...(provenance !== undefined && { detail: 'with provenance' }),
  };
}

/** The versions listed in an index.yaml, charts by name and each chart's versions in index order. */
function readIndex(text: string): IndexVersion[] {
  const index = parseYaml(text, { maxAliasCount: 100 }) as { apiVersion?: unknown; entries?: unknown } | null;
  if (index === null || typeof index !== 'object' || index.apiVersion === undefined)
    throw new Error('index.yaml has no apiVersion');
  const entries = index.entries ?? {};
  if (typeof entries !== 'object' || entries === null)
    throw new Error('index.yaml entries must be a mapping');
  const versions: IndexVersion[] = [];
  for (const name of Object.keys(entries).sort()) {
    const list = (entries as Record<string, unknown>)[name];
    if (!Array.isArray(list)) continue;
    for (const item of list as Record<string, unknown>[]) {
      if (item === null || typeof item !== 'object') continue;
      const urls = Array.isArray(item.urls)
        ? item.urls.filter((u): u is string => typeof u === 'string')
        : [];
      const created =
        item.created instanceof Date
          ? item.created.toISOString()
          : typeof item.created === 'string'
            ? item.created
            : undefined;
      versions.push({
        name: typeof item.name === 'string' ? item.name : name,
        version:
          typeof item.version === 'string' || typeof item.version === 'number' ? String(item.version) : '',
        ...(urls[0] !== undefined && { url: urls[0] }),
        ...(typeof item.digest === 'string' && { digest: item.digest }),
        ...(created !== undefined && { created }),
      });
    }
  }
  return versions;
}
