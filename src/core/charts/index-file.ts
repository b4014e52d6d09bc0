import { Document } from 'yaml';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { digestHex } from '../oci/digest.js';
import { metadataInGoOrder, sortedKeys } from './go-json.js';
import type { ChartMetadata } from './metadata.js';

/** One version of a chart as the classic repository and the ChartMuseum API show it. */
export interface ChartVersionEntry {
  metadata: ChartMetadata;
  repository: string;
  tag: string;
  manifestDigest: Digest;
  chart: Descriptor;
  provenance?: Descriptor;
  /** Push time of the manifest. */
  created: Date;
}

/** The archive's file name in a classic repository: `<name>-<version>.tgz`. */
export function chartFileName(entry: { metadata: ChartMetadata }): string {
  return `${entry.metadata.name}-${entry.metadata.version}.tgz`;
}

/** Go's `time.RFC3339Nano` (trailing zeros of the fraction dropped), which is how Helm writes times. */
export function rfc3339Nano(date: Date): string {
  const iso = date.toISOString(); // 2006-01-02T15:04:05.000Z
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

/**
 * A chart version as Helm's `repo.ChartVersion` marshals to JSON: the Chart.yaml fields in Helm's order,
 * then `urls`, `created` and `digest` (bare hex SHA-256 of the archive).
 */
export function chartVersionObject(entry: ChartVersionEntry): Record<string, unknown> {
  return {
    ...metadataInGoOrder(entry.metadata),
    urls: [`charts/${chartFileName(entry)}`],
    created: rfc3339Nano(entry.created),
    digest: digestHex(entry.chart.digest),
  };
}

/**
 * The classic repository's index.yaml in Helm's strict format: `apiVersion: v1`, `entries` (per chart
 * name, newest version first, as given), `generated`. Keys are sorted at every level and strings that
 * YAML 1.1 would read as something else are quoted, as Helm's own writer (sigs.k8s.io/yaml) does, so
 * Helm's strict parser reads back exactly these fields.
 */
export function renderIndex(charts: Map<string, ChartVersionEntry[]>, generated: Date): Buffer {
  const entries: Record<string, unknown[]> = {};
  for (const name of [...charts.keys()].sort()) {
    const versions = charts.get(name) ?? [];
    if (versions.length > 0) entries[name] = versions.map((entry) => sortedKeys(chartVersionObject(entry)));
  }
  const index = { apiVersion: 'v1', entries, generated: rfc3339Nano(generated) };
  const document = new Document(index, { version: '1.1' });
  return Buffer.from(document.toString({ indentSeq: false, lineWidth: 0 }), 'utf8');
}
