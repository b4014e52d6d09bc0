import type { Logger } from 'pino';
import type { BlobStore, Clock, MetadataStore } from '../core/ports.js';
import { gcJob } from '../jobs/gc.js';
import { quotaRecountJob, uploadPurgeJob } from '../jobs/maintenance.js';
import { Scheduler } from '../jobs/scheduler.js';
import type { BerthConfig } from './config.js';

/** The one scheduler, with garbage collection, upload purge and quota recount registered. */
export function createScheduler(
  config: BerthConfig,
  blobs: BlobStore,
  metadata: MetadataStore,
  clock: Clock,
  logger: Logger,
): Scheduler {
  const scheduler = new Scheduler(metadata, clock, {
    tickMs: config.lifecycle.schedulerTickSeconds * 1000,
    onError: (err, kind) => logger.error({ err, kind }, 'job failed'),
  });
  const deps = { blobs, metadata, clock };
  scheduler.register(gcJob(deps, { graceMs: config.lifecycle.gcGraceSeconds * 1000 }));
  scheduler.register(uploadPurgeJob(deps, { ttlMs: config.lifecycle.uploadTtlSeconds * 1000 }));
  scheduler.register(quotaRecountJob(metadata));
  return scheduler;
}
