import type { BlobStore, Clock, MetadataStore } from '../ports.js';

/**
 * Removes upload sessions started more than `ttlMs` ago with their bytes (the S3 store also aborts the
 * multipart upload). The session row goes first: a client still sending chunks then gets
 * BLOB_UPLOAD_UNKNOWN rather than writing into a file that is about to vanish.
 */
export async function purgeUploads(
  blobs: BlobStore,
  metadata: MetadataStore,
  clock: Clock,
  ttlMs: number,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<{ purged: number; pinsRemoved: number }> {
  const before = new Date(clock.now().getTime() - ttlMs);
  let purged = 0;
  for (;;) {
    signal?.throwIfAborted();
    const sessions = await metadata.uploads.listStartedBefore(before, 200);
    if (sessions.length === 0) break;
    for (const session of sessions) {
      await metadata.uploads.delete(session.id);
      await blobs.cancelUpload(session.id);
      purged += 1;
    }
  }
  const pinsRemoved = await metadata.gc.purgePins(before);
  log(
    `purged ${purged} upload sessions started before ${before.toISOString()}; removed ${pinsRemoved} stale pins`,
  );
  return { purged, pinsRemoved };
}
