import type { JobLease, MetadataScope, TransactionOptions } from '../../core/ports.js';
import type { SqliteLifecycleQueries } from './lifecycle-queries.js';

type LifecycleScope = Pick<MetadataScope, 'jobs' | 'gc' | 'quotas'>;
type InTx = <R>(fn: (tx: MetadataScope) => Promise<R>, options?: TransactionOptions) => Promise<R>;

const lift =
  <A extends unknown[], R>(fn: (...args: A) => R) =>
  (...args: A): Promise<R> =>
    new Promise<R>((resolve) => resolve(fn(...args)));

/**
 * Job kinds running in this process. The SQLite store belongs to one process, so one run at a time
 * per kind is an in-process set; a crash releases it by ending the process.
 */
const held = new WeakMap<object, Set<string>>();

/** Jobs, GC and quota stores over one connection's queries. */
export function jobsGcQuotaScope(q: SqliteLifecycleQueries, owner: object): LifecycleScope {
  const kinds = held.get(owner) ?? new Set<string>();
  held.set(owner, kinds);
  const tryLock = (kind: string): Promise<JobLease | undefined> => {
    if (kinds.has(kind)) return Promise.resolve(undefined);
    kinds.add(kind);
    let released = false;
    return Promise.resolve({
      release: () => {
        if (!released) kinds.delete(kind);
        released = true;
        return Promise.resolve();
      },
    });
  };
  return {
    jobs: {
      createRun: lift(q.createRun.bind(q)),
      getRun: lift(q.getRun.bind(q)),
      listRuns: lift(q.listRuns.bind(q)),
      updateRun: lift(q.updateRun.bind(q)),
      appendLog: lift(q.appendLog.bind(q)),
      log: lift(q.log.bind(q)),
      interruptRuns: lift(q.interruptRuns.bind(q)),
      getSchedule: lift(q.getSchedule.bind(q)),
      putSchedule: lift(q.putSchedule.bind(q)),
      claimFire: lift(q.claimFire.bind(q)),
      tryLock,
    },
    gc: {
      pin: lift(q.pin.bind(q)),
      unpin: lift(q.unpin.bind(q)),
      unreferenced: lift(q.unreferenced.bind(q)),
      condemn: lift(q.condemn.bind(q)),
      release: lift(q.release.bind(q)),
      clearTombstones: lift(q.clearTombstones.bind(q)),
      purgePins: lift(q.purgePins.bind(q)),
      staleLinks: lift(q.staleLinks.bind(q)),
      unlinkStale: lift(q.unlinkStale.bind(q)),
      untagged: lift(q.untagged.bind(q)),
      deleteUntagged: lift(q.deleteUntagged.bind(q)),
    },
    quotas: {
      usage: lift(q.usage.bind(q)),
      recount: lift(q.recount.bind(q)),
    },
  };
}

/** The store-level stores: reads on the reader, each write one transaction on the writer. */
export function jobsGcQuotaStores(reads: LifecycleScope, inTx: InTx): LifecycleScope {
  return {
    jobs: {
      ...reads.jobs,
      createRun: (run) => inTx((tx) => tx.jobs.createRun(run)),
      updateRun: (id, patch, at) => inTx((tx) => tx.jobs.updateRun(id, patch, at)),
      appendLog: (id, text) => inTx((tx) => tx.jobs.appendLog(id, text)),
      interruptRuns: (kind, at) => inTx((tx) => tx.jobs.interruptRuns(kind, at)),
      putSchedule: (schedule) => inTx((tx) => tx.jobs.putSchedule(schedule)),
      claimFire: (kind, at) => inTx((tx) => tx.jobs.claimFire(kind, at)),
    },
    gc: {
      ...reads.gc,
      pin: (d, h, at, since) => inTx((tx) => tx.gc.pin(d, h, at, since), { durable: false }),
      unpin: (h) => inTx((tx) => tx.gc.unpin(h)),
      condemn: (d, since, at) => inTx((tx) => tx.gc.condemn(d, since, at)),
      release: (d) => inTx((tx) => tx.gc.release(d)),
      clearTombstones: (before) => inTx((tx) => tx.gc.clearTombstones(before)),
      purgePins: (before) => inTx((tx) => tx.gc.purgePins(before)),
      unlinkStale: (r, d, before) => inTx((tx) => tx.gc.unlinkStale(r, d, before)),
      deleteUntagged: (r, d, before) => inTx((tx) => tx.gc.deleteUntagged(r, d, before)),
    },
    quotas: {
      ...reads.quotas,
      recount: (project) => inTx((tx) => tx.quotas.recount(project)),
    },
  };
}
