import type { Digest } from '../oci/digest.js';
import type { BlobStore, Clock, MetadataStore, UntaggedManifest } from '../ports.js';

export interface GcOptions {
  /** Blobs written and links and manifests created within this window are kept. */
  graceMs: number;
  /** Deletes untagged manifests first (those no index and no surviving subject holds). */
  deleteUntagged: boolean;
  /** Reports what would go and deletes nothing. */
  dryRun: boolean;
  /** Blob deletions in flight at once. */
  workers: number;
  /** A pin older than this was left by a writer that died; it no longer keeps a blob. */
  pinTtlMs?: number;
}

export interface GcResult {
  dryRun: boolean;
  deletedManifests: number;
  unlinkedBlobs: number;
  deletedBlobs: number;
  freedBytes: number;
  /** Blobs inside the grace window, left for a later run. */
  keptRecent: number;
  ms: number;
}

export interface GcDeps {
  blobs: BlobStore;
  metadata: MetadataStore;
  clock: Clock;
}

const sweepBatch = 500;
const linkBatch = 1000;

/**
 * Online garbage collection; pushes and pulls go on while it runs and it holds no lock across a phase.
 *
 * 1. (delete_untagged) untagged manifests pushed before the grace window, planned so that an index goes
 *    before its children and a subject before its referrers; each is deleted in a transaction that
 *    re-checks it is still untagged and unheld.
 * 2. Blob links older than the window that no manifest of their repository references are removed, each
 *    re-checked in its own transaction (which on PostgreSQL queues on the repository lock, like a push).
 * 3. Every stored blob older than the window that nothing links, references or pins is condemned (a
 *    tombstone, in one short transaction that re-checks all of that), its file deleted, and the tombstone
 *    removed. A writer that wants the digest meanwhile waits for the tombstone to go, then writes anew.
 */
export async function collectGarbage(
  deps: GcDeps,
  options: GcOptions,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<GcResult> {
  const started = Date.now();
  const { metadata, blobs, clock } = deps;
  const now = clock.now();
  const cutoff = new Date(now.getTime() - options.graceMs);
  const pinnedSince = new Date(now.getTime() - (options.pinTtlMs ?? 24 * 3_600_000));
  const result: GcResult = {
    dryRun: options.dryRun,
    deletedManifests: 0,
    unlinkedBlobs: 0,
    deletedBlobs: 0,
    freedBytes: 0,
    keptRecent: 0,
    ms: 0,
  };
  log(
    `gc started: grace window ${options.graceMs} ms, delete_untagged=${options.deleteUntagged}, dry_run=${options.dryRun}`,
  );
  if (!options.dryRun) {
    // Only one GC runs at a time (the scheduler's lease), so every tombstone now is from one that died.
    const cleared = await metadata.gc.clearTombstones(now);
    if (cleared > 0) log(`cleared ${cleared} tombstones left by an interrupted run`);
    await metadata.gc.purgePins(pinnedSince);
  }

  if (options.deleteUntagged) {
    const plan = planUntagged(await metadata.gc.untagged(cutoff));
    for (const m of plan) {
      signal?.throwIfAborted();
      if (options.dryRun || (await metadata.gc.deleteUntagged(m.repository, m.digest, cutoff))) {
        result.deletedManifests += 1;
        log(`${options.dryRun ? 'would delete' : 'deleted'} manifest ${m.repository}@${m.digest}`);
      }
    }
  }

  if (options.dryRun) {
    result.unlinkedBlobs = (await metadata.gc.staleLinks(cutoff, Number.MAX_SAFE_INTEGER)).length;
  } else {
    for (;;) {
      signal?.throwIfAborted();
      const stale = await metadata.gc.staleLinks(cutoff, linkBatch);
      let removed = 0;
      for (const link of stale)
        if (await metadata.gc.unlinkStale(link.repository, link.digest, cutoff)) removed += 1;
      result.unlinkedBlobs += removed;
      if (removed === 0 || stale.length < linkBatch) break;
    }
  }
  log(
    `${options.dryRun ? 'would unlink' : 'unlinked'} ${result.unlinkedBlobs} blob links no manifest references`,
  );

  let batch: { digest: Digest; size: number }[] = [];
  const sweep = async () => {
    const sizes = new Map(batch.map((b) => [b.digest, b.size]));
    batch = [];
    const digests = [...sizes.keys()];
    const garbage = await metadata.gc.unreferenced(digests, pinnedSince);
    if (garbage.length === 0) return;
    if (options.dryRun) {
      for (const digest of garbage) count(digest, sizes.get(digest) ?? 0);
      return;
    }
    const condemned = await metadata.gc.condemn(garbage, pinnedSince, clock.now());
    try {
      await forEachLimited(condemned, Math.max(1, options.workers), async (digest) => {
        if (await blobs.delete(digest)) count(digest, sizes.get(digest) ?? 0);
      });
    } finally {
      await metadata.gc.release(condemned);
    }
  };
  const count = (digest: Digest, size: number) => {
    result.deletedBlobs += 1;
    result.freedBytes += size;
    log(`${options.dryRun ? 'would delete' : 'deleted'} blob ${digest} (${size} bytes)`);
  };
  for await (const blob of blobs.list()) {
    if (blob.modifiedAt.getTime() >= cutoff.getTime()) {
      result.keptRecent += 1;
      continue;
    }
    batch.push({ digest: blob.digest, size: blob.size });
    if (batch.length >= sweepBatch) {
      signal?.throwIfAborted();
      await sweep();
    }
  }
  if (batch.length > 0) await sweep();
  result.ms = Date.now() - started;
  log(
    `gc ${options.dryRun ? 'dry run ' : ''}done: ${result.deletedManifests} manifests, ${result.unlinkedBlobs} links, ` +
      `${result.deletedBlobs} blobs, ${result.freedBytes} bytes freed, ${result.keptRecent} recent blobs kept, ${result.ms} ms`,
  );
  return result;
}

/**
 * The order in which untagged manifests can go: one is deletable when every index holding it and its
 * subject (if that is a manifest of the repository) are deletable too, and comes after them.
 */
export function planUntagged(candidates: UntaggedManifest[]): UntaggedManifest[] {
  const key = (repository: string, digest: string) => `${repository}\u0000${digest}`;
  const planned = new Set<string>();
  const order: UntaggedManifest[] = [];
  let remaining = candidates;
  for (;;) {
    const next: UntaggedManifest[] = [];
    for (const m of remaining) {
      const parentsGone = m.parents.every((p) => planned.has(key(m.repository, p)));
      const subjectGone =
        !m.subjectPresent || (m.subject !== undefined && planned.has(key(m.repository, m.subject)));
      if (parentsGone && subjectGone) {
        planned.add(key(m.repository, m.digest));
        order.push(m);
      } else next.push(m);
    }
    if (next.length === remaining.length) return order;
    remaining = next;
  }
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let index = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (index < items.length) await fn(items[index++]!);
  });
  await Promise.all(lanes);
}
