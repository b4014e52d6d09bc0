import type { Digest } from '../oci/digest.js';

/**
 * A small in-memory cache of manifest bytes keyed by digest. Content under a digest never changes, so
 * entries can never be stale; they are only evicted (least recently used) to bound memory.
 */
export class ManifestCache {
  private readonly entries = new Map<Digest, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(digest: Digest): Buffer | undefined {
    const hit = this.entries.get(digest);
    if (hit !== undefined) {
      // Re-insert so that Map order tracks recency.
      this.entries.delete(digest);
      this.entries.set(digest, hit);
    }
    return hit;
  }

  set(digest: Digest, content: Buffer): void {
    if (content.length > this.maxBytes / 8 || this.entries.has(digest)) return;
    this.entries.set(digest, content);
    this.bytes += content.length;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.length;
    }
  }

  delete(digest: Digest): void {
    const hit = this.entries.get(digest);
    if (hit === undefined) return;
    this.entries.delete(digest);
    this.bytes -= hit.length;
  }
}
