import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import tar from 'tar-stream';
import { Document } from 'yaml';
import { metadataInGoOrder, sortedKeys } from '../../core/charts/go-json.js';
import { ChartError, type ChartMetadata } from '../../core/charts/metadata.js';
import { checkDependencies, loadChartDir, type LoadedChart } from './loader.js';

/** What Helm puts in the gzip header of every chart it packages (pkg/chartutil/save.go). */
const helmGzipExtra = Buffer.from('+aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo=');
const helmGzipComment = 'Helm';

export interface PackagedChart {
  metadata: ChartMetadata;
  fileName: string;
  archive: Buffer;
}

/**
 * `helm package DIR`: loads the folder (honouring `.helmignore`), checks Chart.yaml and that every
 * dependency is present under charts/, and writes `<name>-<version>.tgz` laid out as Helm lays it out.
 */
export async function packageChartDir(dir: string, now = new Date()): Promise<PackagedChart> {
  const chart = await loadChartDir(dir);
  checkDependencies(chart);
  const archive = await chartArchive(chart, now);
  return {
    metadata: chart.metadata,
    fileName: `${chart.metadata.name}-${chart.metadata.version}.tgz`,
    archive,
  };
}

/** Packages `dir` into `outDir` and returns the archive's absolute path. */
export async function packageChartToDir(
  dir: string,
  outDir: string,
): Promise<{ path: string; packaged: PackagedChart }> {
  const packaged = await packageChartDir(dir);
  await mkdir(outDir, { recursive: true });
  const path = resolve(join(outDir, packaged.fileName));
  await writeFile(path, packaged.archive);
  return { path, packaged };
}

/**
 * The archive Helm's `chartutil.Save` writes: under `<name>/`, Chart.yaml (rewritten from the metadata,
 * keys sorted), Chart.lock (v2 charts), values.yaml, values.schema.json, templates, other files, then each
 * dependency the same way under `<name>/charts/<dependency>/`; files 0644 with the packaging time.
 */
export async function chartArchive(chart: LoadedChart, now: Date): Promise<Buffer> {
  const pack = tar.pack();
  const collected = collect(pack);
  writeChart(pack, chart, '', now);
  pack.finalize();
  return gzipLikeHelm(await collected);
}

function writeChart(pack: tar.Pack, chart: LoadedChart, prefix: string, now: Date): void {
  const base = `${prefix}${chart.metadata.name}`;
  const put = (name: string, data: Buffer): void => {
    pack.entry({ name: `${base}/${name}`, size: data.length, mode: 0o644, mtime: now }, data);
  };
  const metadata = { ...chart.metadata };
  if (metadata.apiVersion === 'v1') delete metadata.dependencies;
  put('Chart.yaml', toYaml(metadataInGoOrder(metadata)));
  if (metadata.apiVersion === 'v2' && chart.lock !== undefined)
    put('Chart.lock', toYaml(lockObject(chart.lock)));
  if (chart.values !== undefined) put('values.yaml', chart.values);
  if (chart.schema !== undefined) {
    try {
      JSON.parse(chart.schema.toString('utf8'));
    } catch {
      throw new ChartError('Invalid JSON in values.schema.json');
    }
    put('values.schema.json', chart.schema);
  }
  for (const file of chart.templates) put(file.name, file.data);
  for (const file of chart.files) put(file.name, file.data);
  for (const dependency of chart.dependencies) writeChart(pack, dependency, `${base}/charts/`, now);
}

/** YAML as Helm writes it (sigs.k8s.io/yaml: keys sorted, YAML 1.1 quoting, sequences not indented). */
export function toYaml(value: unknown): Buffer {
  return Buffer.from(
    new Document(sortedKeys(value), { version: '1.1' }).toString({ indentSeq: false, lineWidth: 0 }),
    'utf8',
  );
}

function lockObject(lock: NonNullable<LoadedChart['lock']>): Record<string, unknown> {
  const metadata = metadataInGoOrder({
    name: 'lock',
    version: '0.0.0',
    apiVersion: 'v2',
    dependencies: lock.dependencies,
  });
  const generated = lock.generated instanceof Date ? lock.generated.toISOString() : lock.generated;
  return {
    generated: generated ?? '0001-01-01T00:00:00Z',
    digest: lock.digest ?? '',
    dependencies: metadata.dependencies ?? [],
  };
}

/** gzip with the header fields Go's writer sets for Helm: no mtime, OS unknown, Helm's extra field and comment. */
function gzipLikeHelm(data: Buffer): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0x04 | 0x10, 0, 0, 0, 0, 0, 0xff]);
  const extraLength = Buffer.alloc(2);
  extraLength.writeUInt16LE(helmGzipExtra.length);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([
    header,
    extraLength,
    helmGzipExtra,
    Buffer.from(`${helmGzipComment}\0`, 'latin1'),
    deflateRawSync(data),
    trailer,
  ]);
}

async function collect(pack: tar.Pack): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
