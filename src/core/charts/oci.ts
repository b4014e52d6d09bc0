import type { Digest } from '../oci/digest.js';
import { mediaTypes } from '../oci/media-types.js';
import { goJson, sortedKeys } from './go-json.js';
import type { ChartMetadata } from './metadata.js';

/** The media types of a chart stored as an OCI artifact (Helm's pkg/registry/constants.go). */
export const chartMediaTypes = {
  config: mediaTypes.helmConfig,
  chart: mediaTypes.helmChart,
  /** Written by Helm 3.0 to 3.6 pre-releases; still accepted on pull. */
  legacyChart: 'application/tar+gzip',
  provenance: mediaTypes.helmProvenance,
} as const;

export function isChartLayerType(mediaType: string): boolean {
  return mediaType === chartMediaTypes.chart || mediaType === chartMediaTypes.legacyChart;
}

export interface BlobRef {
  digest: Digest;
  size: number;
}

/** Annotations Helm derives from Chart.yaml and that chart annotations may not override. */
const immutableAnnotations = new Set(['org.opencontainers.image.version', 'org.opencontainers.image.title']);

/**
 * The manifest annotations `helm push` writes: description, title, version, url, created, source (the
 * first of `sources`) and authors (maintainers as `name (email)`, comma separated), each only when
 * non-blank, then the chart's own annotations except title and version.
 */
export function chartAnnotations(meta: ChartMetadata, created: string): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (key: string, value: string | undefined): void => {
    if (value !== undefined && value.trim() !== '') out[`org.opencontainers.image.${key}`] = value;
  };
  add('description', meta.description);
  add('title', meta.name);
  add('version', meta.version);
  add('url', meta.home);
  add('created', created);
  add('source', meta.sources?.[0]);
  if (meta.maintainers !== undefined && meta.maintainers.length > 0) {
    const authors = meta.maintainers
      .map((m) => `${m.name ?? ''}${m.email !== undefined && m.email !== '' ? ` (${m.email})` : ''}`)
      .join(', ');
    add('authors', authors);
  }
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    if (!immutableAnnotations.has(key)) out[key] = value;
  }
  return out;
}

export interface ChartManifestParts {
  config: BlobRef;
  /** The chart layer; its media type defaults to Helm's current one. */
  chart: BlobRef & { mediaType?: string };
  provenance?: BlobRef;
  annotations: Record<string, string>;
}

/**
 * The exact manifest bytes `helm push` sends: `schemaVersion`, `config`, `layers` (chart and provenance,
 * sorted by digest), `annotations` (sorted keys); no `mediaType` field. Sent with Content-Type
 * `application/vnd.oci.image.manifest.v1+json`.
 */
export function chartManifestBytes(parts: ChartManifestParts): Buffer {
  const layers: { mediaType: string; digest: Digest; size: number }[] = [
    {
      mediaType: parts.chart.mediaType ?? chartMediaTypes.chart,
      digest: parts.chart.digest,
      size: parts.chart.size,
    },
  ];
  if (parts.provenance !== undefined) {
    layers.push({
      mediaType: chartMediaTypes.provenance,
      digest: parts.provenance.digest,
      size: parts.provenance.size,
    });
  }
  layers.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    config: { mediaType: chartMediaTypes.config, digest: parts.config.digest, size: parts.config.size },
    layers,
  };
  if (Object.keys(parts.annotations).length > 0) manifest.annotations = sortedKeys(parts.annotations);
  return Buffer.from(goJson(manifest), 'utf8');
}

/** Go's `time.RFC3339` layout in UTC (`2006-01-02T15:04:05Z`), as `helm push` writes `created` by default. */
export function rfc3339Utc(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * Go's `time.RFC3339` layout in the local time zone (`2006-01-02T15:04:05+02:00`, `Z` for UTC), as
 * `helm push` writes the modification time of the archive it pushes.
 */
export function rfc3339Local(date: Date): string {
  const offset = -date.getTimezoneOffset();
  if (offset === 0) return rfc3339Utc(date);
  const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset > 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
