import { collectGarbage } from '../core/lifecycle/gc.js';
import type { BlobStore, Clock, MetadataStore } from '../core/ports.js';
import type { JobDefinition } from './scheduler.js';

export const gcKind = 'gc';

export interface GcJobOptions {
  /** Default 2 hours. */
  graceMs: number;
}

/** Harbor's GC parameters: `delete_untagged`, `dry_run`, `workers`. */
export function gcJob(
  deps: { blobs: BlobStore; metadata: MetadataStore; clock: Clock },
  options: GcJobOptions,
): JobDefinition {
  return {
    kind: gcKind,
    defaultSchedule: { type: 'None', parameters: {} },
    run: async ({ parameters, log, signal }) => {
      const workers = Number(parameters['workers'] ?? 1);
      const result = await collectGarbage(
        deps,
        {
          graceMs: options.graceMs,
          deleteUntagged: parameters['delete_untagged'] === true,
          dryRun: parameters['dry_run'] === true,
          workers: Number.isInteger(workers) && workers > 0 && workers <= 10 ? workers : 1,
        },
        log,
        signal,
      );
      return { ...result };
    },
  };
}
