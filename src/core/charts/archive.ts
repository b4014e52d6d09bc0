import { posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import tar, { type Header } from 'tar-stream';
import { ChartError, parseChartYaml, readMetadata, type ChartMetadata } from './metadata.js';

const MiB = 1024 * 1024;

/** Helm's loader limits (pkg/chart/loader/archive.go). */
export const chartArchiveLimits = { maxDecompressedBytes: 100 * MiB, maxFileBytes: 5 * MiB } as const;

/** Small files kept from an archive by default, with the most bytes kept of each. */
const defaultCaptured: Record<string, number> = {
  'Chart.yaml': chartArchiveLimits.maxFileBytes,
  'requirements.yaml': chartArchiveLimits.maxFileBytes,
  'values.yaml': MiB,
  'values.schema.json': MiB,
  'README.md': MiB,
  'Chart.lock': MiB,
  'requirements.lock': MiB,
};

export interface InspectOptions {
  maxDecompressedBytes?: number;
  maxFileBytes?: number;
  /**
   * How many bytes of a file (by its path inside the chart folder) to keep: 0 keeps nothing. A file
   * larger than its cap is left out of `files` rather than cut. Default: Chart.yaml, values, README,
   * lock and requirements files.
   */
  capture?: (path: string) => number;
}

export interface ChartArchive {
  metadata: ChartMetadata;
  /** The one folder at the top of the archive (Helm names it after the chart). */
  topFolder: string;
  /** Files kept (see `capture`), by path inside the chart folder, UTF-8 BOM removed. */
  files: Map<string, Buffer>;
  /** Regular files in the archive. */
  fileCount: number;
  /** Bytes after gunzip. */
  decompressedBytes: number;
}

/**
 * Reads a chart archive (gzip-compressed tar) from a stream, as it arrives, and checks it the way Helm's
 * loader does and stricter: one top folder holding a valid Chart.yaml; no absolute paths, no `..`, no
 * links that leave the chart, no device files; at most 100 MiB after gunzip and 5 MiB per file. The archive
 * is never held in memory; only the captured small files are. Throws ChartError with a message naming
 * the rule that was broken.
 */
export async function inspectChartArchive(
  source: Readable,
  options: InspectOptions = {},
): Promise<ChartArchive> {
  const maxDecompressed = options.maxDecompressedBytes ?? chartArchiveLimits.maxDecompressedBytes;
  const maxFile = options.maxFileBytes ?? chartArchiveLimits.maxFileBytes;
  const capture = options.capture ?? ((path: string) => defaultCaptured[path] ?? 0);
  const state = { top: undefined as string | undefined, entries: 0, fileCount: 0, inflated: 0 };
  const files = new Map<string, Buffer>();
  let refusal: ChartError | undefined;
  let sourceError: Error | undefined;
  source.once('error', (error: Error) => (sourceError ??= error));

  const gunzip = createGunzip();
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      state.inflated += chunk.length;
      if (state.inflated > maxDecompressed) {
        done(new ChartError(`chart archive is larger than ${mib(maxDecompressed)} when decompressed`));
      } else done(null, chunk);
    },
  });
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const refuse = (error: ChartError): void => {
      refusal ??= error;
      stream.resume();
      extract.destroy(error);
    };
    let path: string | undefined;
    try {
      state.entries += 1;
      path = checkEntry(header, state, maxFile);
    } catch (error) {
      return refuse(error as ChartError);
    }
    if (path === undefined) {
      stream.on('end', () => next());
      stream.resume();
      return;
    }
    state.fileCount += 1;
    const cap = capture(path);
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (data) => {
      const chunk = data as Buffer;
      size += chunk.length;
      if (size > maxFile) return refuse(new ChartError(`file ${clip(path)} is larger than ${mib(maxFile)}`));
      if (size <= cap) chunks.push(chunk);
    });
    stream.on('end', () => {
      if (cap > 0 && size <= cap) files.set(path, stripBom(Buffer.concat(chunks, size)));
      next();
    });
  });

  try {
    await pipeline(source, gunzip, meter, extract);
  } catch (error) {
    source.destroy();
    if (refusal !== undefined) throw refusal;
    // The bytes could not be read: not the chart's fault, so not a ChartError.
    if (sourceError !== undefined) throw sourceError;
    throw error instanceof ChartError ? error : describeStreamError(error);
  }
  if (refusal !== undefined) throw refusal;
  if (state.top === undefined || state.entries === 0) throw new ChartError('chart archive is empty');
  const chartYaml = files.get('Chart.yaml');
  if (chartYaml === undefined)
    throw new ChartError(`chart archive has no Chart.yaml in its top folder ${clip(state.top)}/`);
  const metadata = parseChartYaml(chartYaml.toString('utf8'));
  applyRequirements(metadata, files.get('requirements.yaml'));
  return {
    metadata,
    topFolder: state.top,
    files,
    fileCount: state.fileCount,
    decompressedBytes: state.inflated,
  };
}

/**
 * Checks one tar entry and returns its path inside the chart folder when it is a regular file to read,
 * undefined when it is to be skipped (folders, links that stay inside the chart).
 */
function checkEntry(header: Header, state: { top: string | undefined }, maxFile: number): string | undefined {
  const name = header.name.replaceAll('\\', '/');
  if (name.startsWith('/'))
    throw new ChartError(`chart archive contains an absolute path: ${clip(header.name)}`);
  if (/^[a-zA-Z]:\//.test(name))
    throw new ChartError(`chart archive contains a drive-letter path: ${clip(header.name)}`);
  const segments = name.split('/').filter((s: string, i: number) => s !== '' && !(s === '.' && i === 0));
  if (segments.includes('..'))
    throw new ChartError(`chart archive contains a path that leaves the chart: ${clip(header.name)}`);
  if (segments.length === 0) return undefined;
  const top = segments[0]!;
  if (state.top === undefined) state.top = top;
  else if (state.top !== top) {
    throw new ChartError(
      `chart archive has more than one top folder (${clip(state.top)}, ${clip(top)}); a chart has exactly one`,
    );
  }
  const type = header.type ?? 'file';
  const inner = segments.slice(1).join('/');
  switch (type) {
    case 'directory':
      return undefined;
    case 'symlink':
    case 'link': {
      const target = (header.linkname ?? '').replaceAll('\\', '/');
      const resolved =
        type === 'symlink'
          ? posix.normalize(posix.join(posix.dirname(segments.join('/')), target))
          : posix.normalize(target.replace(/^\.\//, ''));
      if (target.startsWith('/') || !resolved.startsWith(`${top}/`)) {
        const kind = type === 'symlink' ? 'symbolic link' : 'hard link';
        throw new ChartError(
          `chart archive contains a ${kind} that points outside the chart: ${clip(header.name)} -> ${clip(target)}`,
        );
      }
      return undefined;
    }
    case 'character-device':
    case 'block-device':
      throw new ChartError(`chart archive contains a device file: ${clip(header.name)}`);
    case 'fifo':
      throw new ChartError(`chart archive contains a named pipe: ${clip(header.name)}`);
    case 'file':
    case 'contiguous-file':
      break;
    default:
      throw new ChartError(
        `chart archive contains an entry of unsupported type ${String(type)}: ${clip(header.name)}`,
      );
  }
  if (segments.length === 1) {
    throw new ChartError(
      top === 'Chart.yaml'
        ? 'Chart.yaml is not inside a chart folder: a chart archive holds one folder named after the chart'
        : `chart archive has a file outside its top folder: ${clip(header.name)}`,
    );
  }
  if ((header.size ?? 0) > maxFile)
    throw new ChartError(`file ${clip(inner)} is larger than ${mib(maxFile)}`);
  return inner;
}

/** Helm reads requirements.yaml into the metadata: its `dependencies` replace Chart.yaml's. */
function applyRequirements(metadata: ChartMetadata, requirements: Buffer | undefined): void {
  if (requirements === undefined) return;
  let raw: unknown;
  try {
    raw = parseYaml(requirements.toString('utf8'), { maxAliasCount: 100 });
  } catch (error) {
    throw new ChartError(
      `requirements.yaml is not valid YAML: ${clip((error as Error).message.split('\n', 1)[0] ?? '')}`,
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('dependencies' in raw)) return;
  const merged = readMetadata(
    {
      name: metadata.name,
      version: metadata.version,
      apiVersion: metadata.apiVersion,
      dependencies: (raw as Record<string, unknown>).dependencies,
    },
    'requirements.yaml',
  );
  if (merged.dependencies !== undefined) metadata.dependencies = merged.dependencies;
  else delete metadata.dependencies;
}

function describeStreamError(error: unknown): ChartError {
  const err = error as NodeJS.ErrnoException;
  const message = err.message ?? String(error);
  if (err.code === 'Z_DATA_ERROR' && /header/.test(message))
    return new ChartError('chart archive is not gzip-compressed');
  if (err.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(message))
    return new ChartError('chart archive is truncated');
  if (err.code?.startsWith('Z_') === true)
    return new ChartError(`chart archive is not valid gzip: ${message}`);
  if (/Unexpected end of data/i.test(message))
    return new ChartError('chart archive is truncated (incomplete tar entry)');
  if (/tar header|Invalid header|unknown format/i.test(message))
    return new ChartError('chart archive is not a tar archive inside gzip');
  return new ChartError(`chart archive cannot be read: ${message}`);
}

function stripBom(data: Buffer): Buffer {
  return data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf
    ? data.subarray(3)
    : data;
}

function mib(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}
