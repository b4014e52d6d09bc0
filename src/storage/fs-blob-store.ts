import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  digestAlgorithm,
  digestHex,
  makeDigest,
  type Digest,
  type DigestAlgorithm,
} from '../core/oci/digest.js';
import type {
  AppendResult,
  BlobInfo,
  BlobReader,
  BlobStore,
  ByteRange,
  CommitResult,
} from '../core/ports.js';
import { pumpFile } from './buffer-pump.js';
import { probeDirectIo, type DirectIo } from './direct-append.js';
import { KeyedMutex } from './keyed-mutex.js';

/** Large reads and writes: fewer syscalls and callbacks per gigabyte. */
const streamChunkBytes = 1 << 20;
const uploadIdGrammar = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface RunningHash {
  hash: Hash;
  offset: number;
}

/**
 * The embedded BlobStore: blobs at `<root>/blobs/<alg>/<hex[0:2]>/<hex>`, uploads at `<root>/uploads/<id>`.
 * Paths are built only from validated digests and from upload ids matching a UUID, so no request can
 * reach outside `root`. A blob appears only by an atomic rename after its digest was checked and the
 * file and its folder were fsynced: once `commitUpload` resolves, the blob survives a power loss.
 */
export class FsBlobStore implements BlobStore {
  /** SHA-256 state of uploads this process has seen, so chunks are hashed once, as they arrive. */
  private readonly running = new Map<string, RunningHash>();
  private readonly uploadLocks = new KeyedMutex();
  /** Set by `init` when uploads can bypass the page cache (see direct-append.ts). */
  private direct: DirectIo | undefined;

  constructor(
    private readonly root: string,
    private readonly options: { directIo?: boolean } = {},
  ) {}

  async init(): Promise<this> {
    await mkdir(join(this.root, 'blobs'), { recursive: true });
    await mkdir(join(this.root, 'uploads'), { recursive: true });
    await this.createPrefixFolders('sha256');
    if (this.options.directIo !== false) this.direct = await probeDirectIo(join(this.root, 'uploads'));
    return this;
  }

  /** Whether uploads are written with O_DIRECT (for diagnostics and tests). */
  get directIo(): boolean {
    return this.direct !== undefined;
  }

  private blobPath(digest: Digest): string {
    const hex = digestHex(digest);
    return join(this.root, 'blobs', digestAlgorithm(digest), hex.slice(0, 2), hex);
  }

  private uploadPath(id: string): string | undefined {
    return uploadIdGrammar.test(id) ? join(this.root, 'uploads', id) : undefined;
  }

  async stat(digest: Digest): Promise<BlobInfo | undefined> {
    const info = await stat(this.blobPath(digest)).catch(ignoreMissing);
    return info === undefined ? undefined : { digest, size: info.size };
  }

  async open(digest: Digest, range?: ByteRange): Promise<BlobReader | undefined> {
    const handle = await open(this.blobPath(digest), 'r').catch(ignoreMissing);
    if (handle === undefined) return undefined;
    let size: number;
    try {
      size = (await handle.stat()).size;
    } catch (error) {
      await handle.close();
      throw error;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    let stream: Readable | undefined;
    return {
      size,
      // Created on first use, so that a caller taking the `writeTo` path never opens a second reader.
      get stream() {
        stream ??=
          end < start
            ? emptyStream(handle)
            : handle.createReadStream({ highWaterMark: streamChunkBytes, start, end });
        return stream;
      },
      writeTo: (sink) => pumpFile(handle, start, end, sink),
    };
  }

  async putVerified(digest: Digest, bytes: Buffer): Promise<void> {
    const target = this.blobPath(digest);
    if (await exists(target)) return;
    const temporary = join(this.root, 'uploads', `${randomUUID()}.put`);
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.publish(temporary, target);
  }

  async startUpload(): Promise<string> {
    const id = randomUUID();
    await (await open(this.uploadPath(id)!, 'wx')).close();
    this.running.set(id, { hash: createHash('sha256'), offset: 0 });
    return id;
  }

  appendUpload(id: string, source: Readable, offset: number): Promise<AppendResult> {
    const path = this.uploadPath(id);
    if (path === undefined) return Promise.resolve({ ok: false, reason: 'unknown-upload' });
    return this.uploadLocks.run(id, async () => {
      const info = await stat(path).catch(ignoreMissing);
      if (info === undefined) return { ok: false, reason: 'unknown-upload' };
      if (info.size !== offset) return { ok: false, reason: 'offset-mismatch', offset: info.size };
      const state = await this.runningHash(id, path, info.size);
      // Until the append completes the in-memory state may disagree with the file; drop it so that a
      // failure midway (client gone, disk full) makes the next request re-hash what was really kept.
      this.running.delete(id);
      let received = 0;
      const seen = (chunk: Buffer) => {
        state.hash.update(chunk);
        received += chunk.length;
      };
      const direct = await this.direct?.append(path, info.size, source, seen);
      if (direct?.ok !== true) await appendBuffered(path, source, seen);
      state.offset = info.size + received;
      this.running.set(id, state);
      return { ok: true, offset: state.offset };
    });
  }

  async uploadStatus(id: string): Promise<{ offset: number } | undefined> {
    const path = this.uploadPath(id);
    const info = path === undefined ? undefined : await stat(path).catch(ignoreMissing);
    return info === undefined ? undefined : { offset: info.size };
  }

  commitUpload(id: string, expected: Digest): Promise<CommitResult> {
    const path = this.uploadPath(id);
    if (path === undefined) return Promise.resolve({ ok: false, reason: 'unknown-upload' });
    return this.uploadLocks.run(id, async () => {
      const handle = await open(path, 'r+').catch(ignoreMissing);
      if (handle === undefined) return { ok: false, reason: 'unknown-upload' };
      let size: number;
      try {
        size = (await handle.stat()).size;
        await handle.sync();
      } finally {
        await handle.close();
      }
      const algorithm = digestAlgorithm(expected);
      const actual =
        algorithm === 'sha256'
          ? makeDigest('sha256', (await this.runningHash(id, path, size)).hash.digest('hex'))
          : await hashFile(path, algorithm);
      this.running.delete(id);
      if (actual !== expected) return { ok: false, reason: 'digest-mismatch', actual };
      await this.publish(path, this.blobPath(expected));
      return { ok: true, size };
    });
  }

  async cancelUpload(id: string): Promise<void> {
    const path = this.uploadPath(id);
    if (path === undefined) return;
    await this.uploadLocks.run(id, async () => {
      this.running.delete(id);
      await rm(path, { force: true });
    });
  }

  async delete(digest: Digest): Promise<boolean> {
    return unlink(this.blobPath(digest)).then(
      () => true,
      (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? false : Promise.reject(error)),
    );
  }

  async *list(): AsyncIterable<BlobInfo & { modifiedAt: Date }> {
    for (const algorithm of ['sha256', 'sha512'] as const) {
      const base = join(this.root, 'blobs', algorithm);
      for (const prefix of (await readdir(base).catch(ignoreMissing)) ?? []) {
        for (const hex of (await readdir(join(base, prefix)).catch(ignoreMissing)) ?? []) {
          const info = await stat(join(base, prefix, hex)).catch(ignoreMissing);
          if (info?.isFile())
            yield { digest: makeDigest(algorithm, hex), size: info.size, modifiedAt: info.mtime };
        }
      }
    }
  }

  close(): Promise<void> {
    this.running.clear();
    return Promise.resolve();
  }

  /** The running SHA-256 of an upload, re-hashing the stored bytes when this process lacks it. */
  private async runningHash(id: string, path: string, size: number): Promise<RunningHash> {
    const known = this.running.get(id);
    if (known !== undefined && known.offset === size) return known;
    const hash = createHash('sha256');
    if (size > 0) {
      for await (const chunk of createReadStream(path, { end: size - 1, highWaterMark: streamChunkBytes })) {
        hash.update(chunk as Buffer);
      }
    }
    return { hash, offset: size };
  }

  /**
   * Creates the 256 folders under which SHA-256 blobs live, once, so that publishing a blob is a rename
   * and one folder fsync rather than a mkdir, a rename and two fsyncs (the new folder's entry in its parent
   * must be durable too): about a tenth of a 1 MiB push's time on this machine's disks.
   */
  private async createPrefixFolders(algorithm: DigestAlgorithm): Promise<void> {
    const base = join(this.root, 'blobs', algorithm);
    const baseCreated = await mkdir(base, { recursive: true });
    const present = new Set(await readdir(base));
    let created = false;
    for (let prefix = 0; prefix < 256; prefix++) {
      const name = prefix.toString(16).padStart(2, '0');
      if (present.has(name)) continue;
      await mkdir(join(base, name), { recursive: true });
      created = true;
    }
    if (created) await fsyncDirectory(base);
    if (baseCreated !== undefined) await fsyncDirectory(dirname(base));
  }

  /**
   * Moves a fully written, fsynced file to its content address and makes the rename durable. When the
   * address already holds the blob, the rename replaces it with identical bytes (readers keep the file
   * they opened), which costs less than asking first.
   */
  private async publish(source: string, target: string): Promise<void> {
    const folder = dirname(target);
    const renamed = await rename(source, target).then(
      () => true,
      (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? false : Promise.reject(error)),
    );
    if (!renamed) {
      // The prefix folder is missing (another algorithm than SHA-256, or removed by hand): create it and
      // make its entry durable before the blob goes in.
      const created = await mkdir(folder, { recursive: true });
      if (created !== undefined) {
        // Each new folder's entry lives in its parent: fsync the parents up to the first that existed.
        for (let dir = folder; dir !== dirname(created); dir = dirname(dir))
          await fsyncDirectory(dirname(dir));
      }
      await rename(source, target);
    }
    await fsyncDirectory(folder);
  }
}

/** Appends through the page cache, writing pages back while the rest arrives (see BackgroundFlusher). */
async function appendBuffered(path: string, source: Readable, seen: (chunk: Buffer) => void): Promise<void> {
  const flusher = new BackgroundFlusher(path);
  try {
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          seen(chunk);
          flusher.wrote(chunk.length);
          yield chunk;
        }
      },
      createWriteStream(path, { flags: 'a', highWaterMark: streamChunkBytes }),
    );
  } finally {
    await flusher.close();
  }
}

/**
 * Starts writing an upload's pages back to disk while the rest of it still arrives, so that the fsync
 * at commit (which makes the blob durable before it is acknowledged) finds little left to flush. The
 * syncs run on the thread pool and are not waited for until the append ends; they add no durability
 * promise of their own.
 */
class BackgroundFlusher {
  private static readonly everyBytes = 16 * 1024 * 1024;
  private pending = 0;
  private handle: Promise<FileHandle> | undefined;
  private readonly syncs: Promise<unknown>[] = [];

  constructor(private readonly path: string) {}

  wrote(bytes: number): void {
    this.pending += bytes;
    if (this.pending < BackgroundFlusher.everyBytes) return;
    this.pending = 0;
    this.handle ??= open(this.path, 'r');
    // Errors here are not the append's: the commit's own fsync reports any real failure.
    this.syncs.push(this.handle.then((h) => h.datasync()).catch(() => undefined));
  }

  async close(): Promise<void> {
    await Promise.all(this.syncs);
    if (this.handle !== undefined) await (await this.handle.catch(() => undefined))?.close();
  }
}

/** An empty blob: nothing to read, but the handle must still be closed. */
function emptyStream(handle: FileHandle): Readable {
  return Readable.from([]).once('close', () => void handle.close());
}

async function hashFile(path: string, algorithm: DigestAlgorithm): Promise<Digest> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: streamChunkBytes }))
    hash.update(chunk as Buffer);
  return makeDigest(algorithm, hash.digest('hex'));
}

async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(ignoreMissing)) !== undefined;
}

function ignoreMissing(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
  throw error;
}
