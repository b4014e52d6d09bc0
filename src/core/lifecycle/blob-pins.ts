import { randomUUID } from 'node:crypto';
import { RegistryError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { Clock, GcStore } from '../ports.js';

/** A digest pinned against garbage collection while its bytes are written and linked. */
export interface Pin {
  holder: string;
  /** Removes the pin (when the write failed) and rethrows `error`. */
  fail: (error: unknown) => Promise<never>;
}

export interface BlobPinOptions {
  /** A tombstone older than this was left by a GC that died; it no longer blocks writers. */
  tombstoneTtlMs: number;
  /** How long a writer waits for GC to finish deleting the digest it wants to write. */
  waitMs: number;
}

export const defaultBlobPinOptions: BlobPinOptions = { tombstoneTtlMs: 10 * 60_000, waitMs: 30_000 };

/**
 * The writers' half of the GC protocol. Before a writer relies on a blob's bytes (publishing an upload,
 * which drops its copy when the content address exists; writing manifest bytes, which skips an existing
 * file), it pins the digest; the pin goes in the same transaction that links the blob. GC condemns a
 * digest only when no pin, link or reference exists, and a pin is refused while the digest is condemned,
 * so either the writer waits until GC has deleted the file (and then writes it anew) or GC skips it.
 */
export class BlobPins {
  constructor(
    private readonly gc: GcStore,
    private readonly clock: Clock,
    private readonly options: BlobPinOptions = defaultBlobPinOptions,
  ) {}

  async pin(digest: Digest): Promise<Pin> {
    const holder = randomUUID();
    const deadline = Date.now() + this.options.waitMs;
    let delay = 5;
    for (;;) {
      const now = this.clock.now();
      const liveSince = new Date(now.getTime() - this.options.tombstoneTtlMs);
      if (await this.gc.pin(digest, holder, now, liveSince)) break;
      if (Date.now() > deadline)
        throw new RegistryError('UNAVAILABLE', 'blob is being garbage collected; try again', { digest });
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 100);
    }
    return {
      holder,
      fail: async (error: unknown) => {
        await this.gc.unpin(holder).catch(() => undefined); // a leftover pin only delays GC until it ages out
        throw error;
      },
    };
  }
}
