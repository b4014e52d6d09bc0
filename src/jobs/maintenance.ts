import { purgeUploads } from '../core/lifecycle/upload-purge.js';
import type { BlobStore, Clock, MetadataStore } from '../core/ports.js';
import type { JobDefinition } from './scheduler.js';

export const uploadPurgeKind = 'upload-purge';
export const quotaRecountKind = 'quota-recount';

/** Abandoned upload sessions older than `ttlMs` (default 24 h) go with their bytes; hourly by default. */
export function uploadPurgeJob(
  deps: { blobs: BlobStore; metadata: MetadataStore; clock: Clock },
  options: { ttlMs: number },
): JobDefinition {
  return {
    kind: uploadPurgeKind,
    defaultSchedule: { type: 'Hourly', parameters: {} },
    run: async ({ log, signal }) => {
      const ttl = options.ttlMs;
      return { ...(await purgeUploads(deps.blobs, deps.metadata, deps.clock, ttl, log, signal)), ttlMs: ttl };
    },
  };
}

/** Rebuilds project storage usage from the blob links and reports what was wrong; daily by default. */
export function quotaRecountJob(metadata: MetadataStore): JobDefinition {
  return {
    kind: quotaRecountKind,
    defaultSchedule: { type: 'Daily', parameters: {} },
    run: async ({ log }) => {
      const wrong = await metadata.quotas.recount();
      for (const w of wrong)
        log(`project ${w.project}: recorded ${w.recorded} bytes, actual ${w.actual}; repaired`);
      log(`recount done: ${wrong.length} projects repaired`);
      return { repaired: wrong };
    },
  };
}
