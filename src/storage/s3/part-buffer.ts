/**
 * Bytes waiting to fill a multipart part. Chunks are kept as they came and joined only when a part is
 * read, so memory stays at about one part (plus one incoming chunk) per upload. A part is first looked
 * at (`peek`) and dropped only after it was stored, so a failed part upload loses nothing.
 */
export class PartBuffer {
  private chunks: Buffer[] = [];
  private bytes = 0;

  get size(): number {
    return this.bytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** The first `size` bytes (all of them when fewer are held), without removing them. */
  peek(size: number): Buffer {
    return this.joined().subarray(0, size);
  }

  /** Removes the first `size` bytes. */
  drop(size: number): void {
    // Copy the rest, so that the (large) joined buffer the part came from can be freed.
    const rest = Buffer.from(this.joined().subarray(size));
    this.chunks = rest.length > 0 ? [rest] : [];
    this.bytes = rest.length;
  }

  private joined(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.bytes)];
    return this.chunks[0]!;
  }
}
