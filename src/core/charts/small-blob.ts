import type { Digest } from '../oci/digest.js';
import type { BlobStore } from '../ports.js';

/**
 * Reads a small blob (a chart config, a provenance file) whole, refusing to hold more than `maxBytes`:
 * undefined when the blob is absent, `too-large` when it is bigger than the cap.
 */
export async function readSmallBlob(
  blobs: BlobStore,
  digest: Digest,
  maxBytes: number,
): Promise<Buffer | 'too-large' | undefined> {
  const reader = await blobs.open(digest);
  if (reader === undefined) return undefined;
  if (reader.size > maxBytes) {
    reader.stream.destroy();
    return 'too-large';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of reader.stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      reader.stream.destroy();
      return 'too-large';
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}
