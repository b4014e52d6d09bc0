import { RegistryError } from '../errors.js';
import type { ManifestValidator } from '../content/manifests.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { ParsedManifest } from '../oci/manifest.js';
import type { BlobLinkStore, BlobStore } from '../ports.js';
import { inspectChartArchive } from './archive.js';
import { ChartError, readMetadata, type ChartMetadata } from './metadata.js';
import { chartMediaTypes, isChartLayerType } from './oci.js';
import { readSmallBlob } from './small-blob.js';

const maxConfigBytes = 1024 * 1024;
const maxRemembered = 1_000;

/** What a chart manifest refers to, once checked. */
export interface CheckedChart {
  metadata: ChartMetadata;
  chart: Descriptor;
  provenance?: Descriptor;
}

/** Whether a manifest is a Helm chart (its config has Helm's media type). */
export function isChartManifest(manifest: ParsedManifest): boolean {
  return manifest.config?.mediaType === chartMediaTypes.config;
}

/** The chart and provenance layers of a chart manifest, or a MANIFEST_INVALID saying what is wrong. */
export function chartLayers(manifest: ParsedManifest): { chart: Descriptor; provenance?: Descriptor } {
  const layers = manifest.blobs.filter((blob) => blob !== manifest.config);
  const charts = layers.filter((layer) => isChartLayerType(layer.mediaType));
  const provenances = layers.filter((layer) => layer.mediaType === chartMediaTypes.provenance);
  if (charts.length === 0) throw invalid(`chart manifest has no chart layer (${chartMediaTypes.chart})`);
  if (charts.length > 1) throw invalid('chart manifest has more than one chart layer');
  if (provenances.length > 1) throw invalid('chart manifest has more than one provenance layer');
  return { chart: charts[0]!, ...(provenances[0] !== undefined && { provenance: provenances[0] }) };
}

/**
 * Refuses chart manifests whose chart is not a valid chart archive, before anything is stored: the chart
 * layer is read from the blob store through the archive inspector (streamed), and the config must be
 * valid chart metadata naming the same chart and version as the archive's Chart.yaml. Blobs not linked to
 * the repository are left for the manifest commit to report (MANIFEST_BLOB_UNKNOWN). Charts already
 * checked are remembered by digest (content under a digest never changes).
 */
export class ChartManifestValidator implements ManifestValidator {
  private readonly checked = new Map<string, ChartMetadata>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly links: Pick<BlobLinkStore, 'get'>,
  ) {}

  async validate(repository: string, manifest: ParsedManifest): Promise<void> {
    if (!isChartManifest(manifest) || manifest.config === undefined) return;
    const { chart } = chartLayers(manifest);
    const config = manifest.config;
    if ((await this.links.get(repository, chart.digest)) === undefined) return;
    if ((await this.links.get(repository, config.digest)) === undefined) return;
    await this.check(chart, config);
  }

  /** Checks a chart blob and its config blob; returns the chart's metadata (from its Chart.yaml). */
  async check(chart: Descriptor, config: Descriptor): Promise<ChartMetadata> {
    const key = `${chart.digest} ${config.digest}`;
    const known = this.checked.get(key);
    if (known !== undefined) return known;
    const reader = await this.blobs.open(chart.digest);
    if (reader === undefined)
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', 'chart layer is missing', { digest: chart.digest });
    let metadata: ChartMetadata;
    try {
      metadata = (await inspectChartArchive(reader.stream)).metadata;
    } catch (error) {
      if (error instanceof ChartError) throw invalid(`invalid chart: ${error.message}`);
      throw error;
    }
    const configMetadata = await this.readConfig(config);
    if (configMetadata.name !== metadata.name || configMetadata.version !== metadata.version) {
      throw invalid(
        `chart config (${configMetadata.name} ${configMetadata.version}) does not match the chart's Chart.yaml (${metadata.name} ${metadata.version})`,
      );
    }
    if (this.checked.size >= maxRemembered) this.checked.clear();
    this.checked.set(key, metadata);
    return metadata;
  }

  private async readConfig(config: Descriptor): Promise<ChartMetadata> {
    const bytes = await readSmallBlob(this.blobs, config.digest, maxConfigBytes);
    if (bytes === undefined)
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', 'chart config is missing', { digest: config.digest });
    if (bytes === 'too-large') throw invalid(`chart config is larger than ${maxConfigBytes} bytes`);
    let raw: unknown;
    try {
      raw = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw invalid('chart config is not valid JSON');
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw invalid('chart config must be a JSON object');
    try {
      return readMetadata(raw as Record<string, unknown>, 'chart config');
    } catch (error) {
      if (error instanceof ChartError) throw invalid(error.message);
      throw error;
    }
  }
}

function invalid(message: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message, { reason: message });
}
