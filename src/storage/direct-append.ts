import { constants } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Appending uploads with O_DIRECT.
 *
 * A pushed layer is written once and read later, if at all, by pulls that may come hours afterwards. Through
 * the page cache every pushed byte costs a copy into freshly allocated cache pages plus their write-back,
 * and the fsync before the 201 then waits for that write-back. Written with O_DIRECT, the bytes go from a
 * few reused, page-aligned staging buffers straight to the device, the cache is not filled with data
 * nobody asked for, and the commit's fsync only has the file's metadata and the device cache left to
 * flush. Durability is unchanged: the commit still fsyncs the file and its folder before the rename is
 * acknowledged.
 *
 * O_DIRECT needs the memory address, the file offset and the length of each write aligned to the device's
 * block size. Node gives no aligned allocations, but WebAssembly memories start on a page boundary, so
 * staging buffers are carved from one. Only whole blocks go through O_DIRECT: an append that starts at an
 * unaligned offset (a chunk of an unusual size before it) takes the ordinary buffered path, and the last
 * partial block of an append is written through an ordinary descriptor. Where the filesystem refuses
 * O_DIRECT (tmpfs, some overlays), `probeDirectIo` returns undefined and every append is buffered.
 */

/** File offsets and lengths of direct writes are multiples of this (the page size, a multiple of any block size). */
export const directAlignment = 4096;
/** Bytes gathered before a write is issued: large enough to keep the device busy, small enough to bound memory. */
const stagingBytes = 512 * 1024;
/** Writes of one append in flight at once: one being written while the next fills. */
const writesInFlight = 2;
/** Staging buffers an append needs: the one filling plus those in flight. */
const buffersPerAppend = writesInFlight + 1;
/** The pool's memory: 32 MiB, 64 buffers, enough for 21 concurrent appends (more wait for the buffered path). */
const poolBuffers = 64;
const wasmPageBytes = 64 * 1024;

/** Page-aligned staging buffers from one WebAssembly memory, reserved a whole append's worth at a time. */
class AlignedBufferPool {
  private readonly free: Buffer[] = [];

  constructor() {
    const memory = new WebAssembly.Memory({ initial: (poolBuffers * stagingBytes) / wasmPageBytes });
    for (let i = 0; i < poolBuffers; i++)
      this.free.push(Buffer.from(memory.buffer, i * stagingBytes, stagingBytes));
  }

  /** `count` buffers, or undefined when the pool has fewer free (the caller then writes buffered). */
  reserve(count: number): Buffer[] | undefined {
    return this.free.length < count ? undefined : this.free.splice(this.free.length - count, count);
  }

  release(buffers: Buffer[]): void {
    this.free.push(...buffers);
  }
}

export type DirectAppendResult =
  | { ok: true; bytes: number }
  /** The pool is busy or the offset unaligned: nothing was consumed, append buffered instead. */
  | { ok: false };

/** Direct appends into files of one folder; from `probeDirectIo`. */
export class DirectIo {
  private readonly pool = new AlignedBufferPool();

  /**
   * Appends `chunks` to the file at `path`, which is `offset` bytes long, calling `seen` with each chunk
   * before it is staged (hashing). On failure the file keeps a prefix of what arrived (whole staging
   * buffers written in order), never a hole: a failed write truncates the file back to where it started.
   */
  async append(
    path: string,
    offset: number,
    chunks: AsyncIterable<Buffer>,
    seen: (chunk: Buffer) => void,
  ): Promise<DirectAppendResult> {
    if (offset % directAlignment !== 0) return { ok: false };
    const buffers = this.pool.reserve(buffersPerAppend);
    if (buffers === undefined) return { ok: false };
    let handle: FileHandle | undefined;
    let writer: StagedWriter | undefined;
    try {
      handle = await open(path, constants.O_WRONLY | constants.O_DIRECT);
      writer = new StagedWriter(handle, offset, buffers);
      for await (const chunk of chunks) {
        seen(chunk);
        await writer.add(chunk);
      }
      return { ok: true, bytes: await writer.finish(path) };
    } finally {
      // The buffers and the descriptor are only free once no write uses them, also when the source failed.
      await writer?.quiesce();
      await handle?.close();
      this.pool.release(buffers);
    }
  }
}

/** Fills staging buffers in turn and writes each full one at its offset, a bounded number at a time. */
class StagedWriter {
  private current: Buffer;
  private filled = 0;
  /** File offset where `current` will be written. */
  private position: number;
  private readonly idle: Buffer[];
  /** Writes not yet finished, oldest first. */
  private readonly inFlight = new Set<Promise<void>>();
  /** The lowest offset whose write failed; the file is cut back to it. */
  private failedAt: number | undefined;
  private error: unknown;

  constructor(
    private readonly handle: FileHandle,
    private readonly start: number,
    buffers: Buffer[],
  ) {
    this.position = start;
    this.current = buffers[0]!;
    this.idle = buffers.slice(1);
  }

  async add(chunk: Buffer): Promise<void> {
    let taken = 0;
    while (taken < chunk.length) {
      const copied = chunk.copy(this.current, this.filled, taken);
      taken += copied;
      this.filled += copied;
      if (this.filled === this.current.length) await this.flushCurrent();
    }
  }

  /**
   * Writes the staged rest: whole blocks directly, the partial last block through an ordinary
   * descriptor. Resolves with the bytes appended.
   */
  async finish(path: string): Promise<number> {
    const whole = this.filled - (this.filled % directAlignment);
    const tail = this.current.subarray(whole, this.filled);
    const tailAt = this.position + whole;
    if (whole > 0) this.write(this.current.subarray(0, whole), this.position);
    await this.settle();
    if (tail.length > 0) {
      const buffered = await open(path, 'r+');
      try {
        await buffered.write(tail, 0, tail.length, tailAt);
      } finally {
        await buffered.close();
      }
    }
    return tailAt + tail.length - this.start;
  }

  private async flushCurrent(): Promise<void> {
    const full = this.current;
    this.write(full, this.position);
    this.position += full.length;
    this.filled = 0;
    if (this.idle.length === 0) await this.inFlight.values().next().value;
    this.current = this.idle.pop()!;
    if (this.failedAt !== undefined) await this.settle();
  }

  /** Starts writing `bytes` (a view of a staging buffer) at `at`; the buffer returns to `idle` when done. */
  private write(bytes: Buffer, at: number): void {
    const staging = Buffer.from(bytes.buffer, bytes.byteOffset, stagingBytes);
    const done: Promise<void> = writeFully(this.handle, bytes, at).then(
      () => undefined,
      (error: unknown) => {
        if (this.failedAt === undefined || at < this.failedAt) this.failedAt = at;
        this.error ??= error;
      },
    );
    const tracked = done.finally(() => {
      this.inFlight.delete(tracked);
      this.idle.push(staging);
    });
    this.inFlight.add(tracked);
  }

  /**
   * Waits for every write in flight, whatever their outcome; after a failed one, cuts the file back to
   * its first failed offset, so that what stays is a prefix of what arrived, without holes.
   */
  async quiesce(): Promise<void> {
    await Promise.all([...this.inFlight]);
    if (this.failedAt !== undefined) await this.handle.truncate(this.failedAt).catch(() => undefined);
  }

  /** Waits for every write and throws the first failure. */
  private async settle(): Promise<void> {
    await this.quiesce();
    if (this.failedAt !== undefined) throw this.error;
  }
}

/** pwrite until every byte is written (a direct write may stop short, for example on a full disk). */
async function writeFully(handle: FileHandle, bytes: Buffer, at: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, at + done);
    if (bytesWritten === 0) throw new Error(`direct write made no progress at byte ${at + done}`);
    done += bytesWritten;
  }
}

/**
 * Direct I/O for uploads in `folder` when its filesystem and this runtime support it: one aligned block
 * written with O_DIRECT into a scratch file must succeed. Undefined otherwise (every append buffered).
 */
export async function probeDirectIo(folder: string): Promise<DirectIo | undefined> {
  if (constants.O_DIRECT === undefined) return undefined;
  const scratch = join(folder, `.direct-io-probe-${process.pid}`);
  try {
    const direct = new DirectIo();
    const handle = await open(scratch, constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT);
    try {
      const block = Buffer.from(new WebAssembly.Memory({ initial: 1 }).buffer, 0, directAlignment);
      await writeFully(handle, block, 0);
    } finally {
      await handle.close();
    }
    return direct;
  } catch {
    return undefined;
  } finally {
    await rm(scratch, { force: true });
  }
}
