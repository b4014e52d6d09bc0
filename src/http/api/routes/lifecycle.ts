import { JobAdminService } from '../../../core/lifecycle/admin.js';
import type { JobControl } from '../../../core/lifecycle/jobs.js';
import { QuotaService } from '../../../core/lifecycle/quotas.js';
import type { Clock, MetadataStore } from '../../../core/ports.js';
import type { Route } from '../router.js';
import { gcRoutes } from './gc.js';
import { quotaRoutes } from './quotas.js';

/** Answers every trigger with "not available" when the server runs without a scheduler. */
const noJobs: JobControl = {
  trigger: () => Promise.resolve({ ok: false, reason: 'unknown-kind' }),
  stop: () => false,
  schedule: () => Promise.resolve(undefined),
  setSchedule: () => Promise.reject(new Error('no job scheduler in this server')),
};

/** The lifecycle part of the management API: GC (`/system/gc`) and quotas (`/quotas`). */
export function lifecycleRoutes(
  metadata: MetadataStore,
  clock: Clock,
  jobs: JobControl | undefined,
): Route[] {
  const gc = new JobAdminService('gc', metadata, jobs ?? noJobs, clock);
  return [...gcRoutes(gc), ...quotaRoutes(new QuotaService(metadata, clock))];
}
