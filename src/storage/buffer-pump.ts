import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/**
 * Reusable read buffers for downloads. A stream that allocates a fresh buffer for every read leaves
 * the garbage collector to reclaim hundreds of megabytes a second under load; a buffer taken from here
 * goes back when the socket has flushed it, so steady-state downloads allocate nothing.
 */
class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    readonly bufferBytes: number,
    private readonly maxFree: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.maxFree) this.free.push(buffer);
  }
}

// 1 MiB: each buffer costs a thread-pool round trip and a socket wakeup or two, which on a virtual machine
// cost more than the copy; measured server CPU per pulled MB: 256 KiB 0.66-1.06 ms, 1 MiB 0.43-0.61 ms,
// 4 MiB 0.39-0.49 ms. 1 MiB keeps 16 concurrent pulls within a few tens of MiB.
const pool = new BufferPool(1024 * 1024, 24);

/**
 * Copies bytes `start..end` (inclusive) of a file to `sink`, keeping at most a few buffers in flight,
 * and closes the file. Resolves when everything was handed to the sink; rejects if the sink fails or
 * closes early.
 */
export async function pumpFile(
  handle: FileHandle,
  start: number,
  end: number,
  sink: Writable,
): Promise<void> {
  try {
    let position = start;
    while (position <= end) {
      if (sink.destroyed)
        throw Object.assign(new Error('sink closed'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
      const buffer = pool.take();
      const { bytesRead } = await handle.read(
        buffer,
        0,
        Math.min(buffer.length, end - position + 1),
        position,
      );
      if (bytesRead === 0) throw new Error(`file ended at byte ${position}, expected ${end + 1}`);
      position += bytesRead;
      const accepted = sink.write(buffer.subarray(0, bytesRead), (error) => {
        // Only a flushed buffer may be reused; one whose write failed is simply dropped.
        if (!error) pool.give(buffer);
      });
      if (!accepted) await drained(sink);
    }
    sink.end();
  } finally {
    await handle.close();
  }
}

function drained(sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      sink.off('drain', onDrain);
      sink.off('close', onClose);
      sink.off('error', onError);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(Object.assign(new Error('sink closed'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    sink.on('drain', onDrain);
    sink.on('close', onClose);
    sink.on('error', onError);
  });
}
