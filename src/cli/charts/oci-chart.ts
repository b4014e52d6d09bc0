import { Readable } from 'node:stream';
import { inspectChartArchive } from '../../core/charts/archive.js';
import { chartConfigBytes } from '../../core/charts/go-json.js';
import { readMetadata, type ChartMetadata } from '../../core/charts/metadata.js';
import {
  chartAnnotations,
  chartManifestBytes,
  chartMediaTypes,
  isChartLayerType,
} from '../../core/charts/oci.js';
import { isStrictSemver, resolveVersion, tagForVersion, versionForTag } from '../../core/charts/versions.js';
import { requireDigest } from '../../core/oci/digest.js';
import { mediaTypes } from '../../core/oci/media-types.js';
import { loadCredentials } from '../docker-config.js';
import { baseUrlFor, RegistryClient } from '../registry-client.js';

/** An `oci://host[:port]/path` reference split into where to connect and the repository path. */
export interface OciLocation {
  host: string;
  base: string;
  path: string;
}

/**
 * Parses `oci://HOST/PATH`. Plain HTTP is used for loopback hosts (as Docker treats them) or when asked;
 * HTTPS otherwise.
 */
export function parseOciReference(reference: string, plainHttp = false): OciLocation {
  const match = /^oci:\/\/([^/]+)\/(.+?)\/*$/.exec(reference);
  if (match === null) throw new Error(`${reference}: expected oci://HOST/PROJECT[/...]`);
  const host = match[1]!;
  return { host, base: baseUrlFor(host, plainHttp), path: match[2]! };
}

/** A client for the host, with the login stored for it (`berth login`), if any. */
export async function clientFor(
  location: OciLocation,
  credentials?: { username: string; password: string },
): Promise<RegistryClient> {
  const stored = credentials ?? (await loadCredentials(location.host));
  return new RegistryClient({ base: location.base, ...(stored !== undefined && { credentials: stored }) });
}

export interface PushedChart {
  metadata: ChartMetadata;
  repository: string;
  tag: string;
  digest: string;
  chartDigest: string;
}

/**
 * Pushes a chart archive exactly as `helm push` does: repository `<path>/<chart name>`, tag = version
 * with `+` as `_`, config = the Chart.yaml metadata as Helm's JSON, layers sorted by digest, Helm's
 * annotations with `created` as given (Helm uses the archive's modification time).
 */
export async function pushChart(
  client: RegistryClient,
  path: string,
  archive: Buffer,
  options: { provenance?: Buffer; created: string },
): Promise<PushedChart> {
  const { metadata } = await inspectChartArchive(Readable.from([archive]));
  const repository = `${path}/${metadata.name}`;
  const tag = tagForVersion(metadata.version);
  const config = chartConfigBytes(metadata);
  const chartDigest = await client.pushBlob(repository, archive);
  const configDigest = await client.pushBlob(repository, config);
  const provenanceDigest =
    options.provenance === undefined ? undefined : await client.pushBlob(repository, options.provenance);
  const manifest = chartManifestBytes({
    config: { digest: requireDigest(configDigest), size: config.length },
    chart: { digest: requireDigest(chartDigest), size: archive.length },
    ...(options.provenance !== undefined && {
      provenance: { digest: requireDigest(provenanceDigest!), size: options.provenance.length },
    }),
    annotations: chartAnnotations(metadata, options.created),
  });
  const digest = await client.putManifest(repository, tag, manifest, mediaTypes.ociManifest);
  return { metadata, repository, tag, digest, chartDigest };
}

export interface PulledChart {
  metadata: ChartMetadata;
  version: string;
  archive: Buffer;
  chartDigest: string;
  provenance?: Buffer;
}

interface ManifestLayer {
  mediaType?: string;
  digest?: string;
}

/** The chart layer digest of a chart manifest, and its provenance layer's; throws when it is not a chart. */
export function chartLayersOf(
  manifestBytes: Buffer,
  what: string,
): { config: string; chart: string; provenance?: string } {
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as {
    config?: ManifestLayer;
    layers?: ManifestLayer[];
  };
  if (manifest.config?.mediaType !== chartMediaTypes.config || manifest.config.digest === undefined)
    throw new Error(`${what} is not a Helm chart`);
  const chart = manifest.layers?.find(
    (layer) => layer.mediaType !== undefined && isChartLayerType(layer.mediaType),
  )?.digest;
  if (chart === undefined) throw new Error(`${what} has no chart layer`);
  const provenance = manifest.layers?.find((layer) => layer.mediaType === chartMediaTypes.provenance)?.digest;
  return { config: manifest.config.digest, chart, ...(provenance !== undefined && { provenance }) };
}

/**
 * Pulls a chart as `helm pull oci://… --version V` does: a version is used as the tag (`+` as `_`);
 * otherwise V is a range resolved against the tags that are SemVer versions (newest match), and no V
 * means the newest stable version.
 */
export async function pullChart(
  client: RegistryClient,
  repository: string,
  wanted: string | undefined,
  withProvenance = false,
): Promise<PulledChart> {
  let version = wanted?.replaceAll('_', '+');
  if (version === undefined || !isStrictSemver(version)) {
    const versions = (await client.tags(repository))
      .map(versionForTag)
      .filter((v): v is string => v !== undefined);
    if (versions.length === 0) throw new Error(`no chart versions found in ${repository}`);
    version = resolveVersion(versions, wanted);
    if (version === undefined)
      throw new Error(`no version of ${repository} matches ${wanted ?? 'a stable release'}`);
  }
  const manifest = await client.manifest(repository, tagForVersion(version));
  if (manifest === undefined) throw new Error(`${repository}: version ${version} not found`);
  const layers = chartLayersOf(manifest.bytes, `${repository}:${tagForVersion(version)}`);
  const config = JSON.parse((await client.blob(repository, layers.config)).toString('utf8')) as Record<
    string,
    unknown
  >;
  const metadata = readMetadata(config, 'chart config');
  const archive = await client.blob(repository, layers.chart);
  const provenance =
    withProvenance && layers.provenance !== undefined
      ? await client.blob(repository, layers.provenance)
      : undefined;
  return {
    metadata,
    version,
    archive,
    chartDigest: layers.chart,
    ...(provenance !== undefined && { provenance }),
  };
}
