import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { chartArchiveLimits, inspectChartArchive } from '../../core/charts/archive.js';
import {
  ChartError,
  parseChartYaml,
  readMetadata,
  type ChartDependency,
  type ChartMetadata,
} from '../../core/charts/metadata.js';
import { IgnoreRules } from './helmignore.js';

export interface ChartFile {
  name: string;
  data: Buffer;
}

/** A chart as Helm's loader sees it (pkg/chart/loader/load.go), enough to write it out again. */
export interface LoadedChart {
  metadata: ChartMetadata;
  lock?: { generated?: unknown; digest?: unknown; dependencies: ChartDependency[] };
  values?: Buffer;
  schema?: Buffer;
  templates: ChartFile[];
  files: ChartFile[];
  dependencies: LoadedChart[];
}

/**
 * Loads a chart folder as `helm package` does: `.helmignore` (plus Helm's default rule) decides which
 * files are read, folders are walked in lexical order, symbolic links are followed, anything that is not
 * a regular file is an error, and a UTF-8 BOM is dropped.
 */
export async function loadChartDir(dir: string): Promise<LoadedChart> {
  let rules = new IgnoreRules();
  try {
    rules = IgnoreRules.parse(await readFile(join(dir, '.helmignore'), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  rules.addDefaults();
  const files: ChartFile[] = [];
  let total = 0;
  const walk = async (relative: string): Promise<void> => {
    const entries = (await readdir(join(dir, relative))).sort();
    for (const entry of entries) {
      const path = relative === '' ? entry : `${relative}/${entry}`;
      const full = join(dir, path);
      const info = await stat(full).catch(async () => lstat(full));
      if (info.isDirectory()) {
        if (!rules.ignores(path, true)) await walk(path);
        continue;
      }
      if (rules.ignores(path, false)) continue;
      if (!info.isFile())
        throw new ChartError(`cannot load irregular file ${full} as it has file mode type bits set`);
      if (info.size > chartArchiveLimits.maxFileBytes)
        throw new ChartError(`file ${path} is larger than 5 MiB`);
      total += info.size;
      if (total > chartArchiveLimits.maxDecompressedBytes)
        throw new ChartError('chart is larger than 100 MiB');
      files.push({ name: path, data: stripBom(await readFile(full)) });
    }
  };
  await walk('');
  return loadFiles(files);
}

/** Loads a chart archive held in memory (a dependency under `charts/`), with the archive checks of Berth's inspector. */
export async function loadChartArchive(archive: Buffer): Promise<LoadedChart> {
  const inspected = await inspectChartArchive(Readable.from([archive]), {
    capture: () => chartArchiveLimits.maxFileBytes,
  });
  return loadFiles([...inspected.files].map(([name, data]) => ({ name, data })));
}

/** Sorts a chart's files into their roles, as Helm's `LoadFiles` does, and loads its subcharts. */
export async function loadFiles(files: ChartFile[]): Promise<LoadedChart> {
  const chartYaml = files.find((file) => file.name === 'Chart.yaml');
  if (chartYaml === undefined) throw new ChartError('Chart.yaml file is missing');
  const metadata = parseChartYaml(chartYaml.data.toString('utf8'));
  const chart: LoadedChart = { metadata, templates: [], files: [], dependencies: [] };
  const subcharts = new Map<string, ChartFile[]>();
  for (const file of files) {
    const { name } = file;
    if (name === 'Chart.yaml') continue;
    if (name === 'Chart.lock' || name === 'requirements.lock') {
      chart.lock = readLock(file);
      if (name === 'requirements.lock' && metadata.apiVersion === 'v1') chart.files.push(file);
    } else if (name === 'values.yaml') chart.values = file.data;
    else if (name === 'values.schema.json') chart.schema = file.data;
    else if (name === 'requirements.yaml') {
      const raw = yamlObject(file, 'requirements.yaml');
      if ('dependencies' in raw) {
        const merged = readMetadata(
          { ...raw, name: metadata.name, version: metadata.version, apiVersion: metadata.apiVersion },
          'requirements.yaml',
        );
        if (merged.dependencies !== undefined) metadata.dependencies = merged.dependencies;
        else delete metadata.dependencies;
      }
      if (metadata.apiVersion === 'v1') chart.files.push(file);
    } else if (name.startsWith('templates/')) chart.templates.push(file);
    else if (name.startsWith('charts/') && !name.endsWith('.prov')) {
      const rest = name.slice('charts/'.length);
      const key = rest.split('/', 1)[0]!;
      subcharts.set(key, [...(subcharts.get(key) ?? []), { name: rest, data: file.data }]);
    } else chart.files.push(file);
  }
  for (const [key, members] of [...subcharts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (key.startsWith('_') || key.startsWith('.')) continue;
    try {
      if (key.endsWith('.tgz')) {
        chart.dependencies.push(await loadChartArchive(members[0]!.data));
      } else {
        const inner = members
          .filter((m) => m.name.includes('/'))
          .map((m) => ({ name: m.name.slice(key.length + 1), data: m.data }));
        chart.dependencies.push(await loadFiles(inner));
      }
    } catch (error) {
      throw new ChartError(
        `error unpacking subchart ${key} in ${metadata.name}: ${(error as Error).message}`,
      );
    }
  }
  return chart;
}

/** `helm package`'s dependency check: every dependency in Chart.yaml must be a subchart under charts/. */
export function checkDependencies(chart: LoadedChart): void {
  const present = new Set(chart.dependencies.map((dependency) => dependency.metadata.name));
  const missing = (chart.metadata.dependencies ?? []).filter((d) => !present.has(d.name)).map((d) => d.name);
  if (missing.length > 0) {
    throw new ChartError(`found in Chart.yaml, but missing in charts/ directory: ${missing.join(', ')}`);
  }
}

function readLock(file: ChartFile): LoadedChart['lock'] {
  const raw = yamlObject(file, file.name);
  const dependencies =
    readMetadata({ name: 'lock', version: '0.0.0', dependencies: raw.dependencies }, file.name)
      .dependencies ?? [];
  return { generated: raw.generated, digest: raw.digest, dependencies };
}

function yamlObject(file: ChartFile, where: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = parseYaml(file.data.toString('utf8'), { maxAliasCount: 100 });
  } catch (error) {
    throw new ChartError(`cannot load ${where}: ${(error as Error).message.split('\n', 1)[0]}`);
  }
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new ChartError(`cannot load ${where}: expected a mapping`);
  return raw as Record<string, unknown>;
}

function stripBom(data: Buffer): Buffer {
  return data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf
    ? data.subarray(3)
    : data;
}
