import { createHash, randomBytes, type Hash } from 'node:crypto';
import { MiB } from './stats.js';

/** Blob content as pieces (no copy of the shared random bytes), with its digest. */
export interface BlobContent {
  digest: string;
  size: number;
  /** The bytes [start, end) as one or more buffers. */
  slice(start: number, end: number): Buffer[];
}

const suffixBytes = 16;

/**
 * Blob contents for the whole run, from one buffer of random bytes generated once. Each `unique(size)`
 * blob is the first `size - 16` random bytes followed by a 16-byte counter: every pushed blob is new
 * content (no deduplication shortcut), and its digest costs a copy of a precomputed hash state plus 16
 * bytes instead of hashing the whole blob again.
 */
export class BlobData {
  readonly random: Buffer;
  private readonly prefixHashes = new Map<number, Hash>();
  private readonly runId = randomBytes(8);
  private counter = 0n;

  constructor(readonly largest = 64 * MiB) {
    this.random = randomBytes(largest);
  }

  /** A blob of `size` bytes (16 bytes to the largest size) never made before in this run. */
  unique(size: number): BlobContent {
    if (size < suffixBytes || size > this.largest) throw new Error(`unsupported blob size ${size}`);
    const prefixLength = size - suffixBytes;
    let prefixHash = this.prefixHashes.get(prefixLength);
    if (prefixHash === undefined) {
      prefixHash = createHash('sha256').update(this.random.subarray(0, prefixLength));
      this.prefixHashes.set(prefixLength, prefixHash);
    }
    const suffix = Buffer.alloc(suffixBytes);
    this.runId.copy(suffix, 0);
    suffix.writeBigUInt64BE(++this.counter, 8);
    const digest = `sha256:${prefixHash.copy().update(suffix).digest('hex')}`;
    const prefix = this.random.subarray(0, prefixLength);
    return {
      digest,
      size,
      slice: (start, end) => {
        const pieces: Buffer[] = [];
        if (start < prefixLength) pieces.push(prefix.subarray(start, Math.min(end, prefixLength)));
        if (end > prefixLength)
          pieces.push(suffix.subarray(Math.max(0, start - prefixLength), end - prefixLength));
        return pieces;
      },
    };
  }
}

/** A small blob held whole (configs, manifests). */
export function bufferBlob(bytes: Buffer): BlobContent {
  return {
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.length,
    slice: (start, end) => [bytes.subarray(start, end)],
  };
}
