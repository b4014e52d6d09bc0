import type { Pool } from 'pg';
import type { JobLease, MetadataScope, TransactionOptions } from '../../core/ports.js';
import type { PostgresLifecycleQueries } from './lifecycle-queries.js';

type LifecycleScope = Pick<MetadataScope, 'jobs' | 'gc' | 'quotas'>;
type InTx = <R>(fn: (tx: MetadataScope) => Promise<R>, options?: TransactionOptions) => Promise<R>;

/** First key of the job-kind locks (session-level advisory locks, one per kind). */
const JOB_LOCK_CLASS = 0x626a6f62; // "bjob"

/** Jobs, GC and quota stores over one Queryable (`tryLock` is only meaningful on the store itself). */
export function jobsGcQuotaScope(q: PostgresLifecycleQueries): LifecycleScope {
  return {
    jobs: {
      createRun: q.createRun.bind(q),
      getRun: q.getRun.bind(q),
      listRuns: q.listRuns.bind(q),
      updateRun: q.updateRun.bind(q),
      appendLog: q.appendLog.bind(q),
      log: q.log.bind(q),
      interruptRuns: q.interruptRuns.bind(q),
      getSchedule: q.getSchedule.bind(q),
      putSchedule: q.putSchedule.bind(q),
      claimFire: q.claimFire.bind(q),
      tryLock: () => Promise.reject(new Error('take job locks on the store, not inside a transaction')),
    },
    gc: {
      pin: q.pin.bind(q),
      unpin: q.unpin.bind(q),
      unreferenced: q.unreferenced.bind(q),
      condemn: q.condemn.bind(q),
      release: q.release.bind(q),
      clearTombstones: q.clearTombstones.bind(q),
      purgePins: q.purgePins.bind(q),
      staleLinks: q.staleLinks.bind(q),
      unlinkStale: q.unlinkStale.bind(q),
      untagged: q.untagged.bind(q),
      deleteUntagged: q.deleteUntagged.bind(q),
    },
    quotas: { usage: q.usage.bind(q), recount: q.recount.bind(q) },
  };
}

/**
 * The store-level stores. Writes that lock (pins, tombstones, GC deletes, recount) run as their own
 * transaction; one-statement writes stay on the pool. `tryLock` holds a session-level advisory lock on
 * a connection of its own until released: if the node dies, PostgreSQL drops the connection and with
 * it the lock, so the next node to start can mark the dead run Interrupted and run the job again.
 */
export function jobsGcQuotaStores(reads: LifecycleScope, inTx: InTx, pool: Pool): LifecycleScope {
  const tryLock = async (kind: string): Promise<JobLease | undefined> => {
    const client = await pool.connect();
    try {
      const result = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
        [JOB_LOCK_CLASS, kind],
      );
      if (result.rows[0]?.locked !== true) {
        client.release();
        return undefined;
      }
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [JOB_LOCK_CLASS, kind]);
          client.release();
        } catch (error) {
          client.release(error as Error); // destroys the connection, which drops the lock anyway
        }
      },
    };
  };
  return {
    jobs: { ...reads.jobs, tryLock },
    gc: {
      ...reads.gc,
      pin: (d, h, at, since) => inTx((tx) => tx.gc.pin(d, h, at, since), { durable: false }),
      condemn: (d, since, at) => inTx((tx) => tx.gc.condemn(d, since, at)),
      unlinkStale: (r, d, before) => inTx((tx) => tx.gc.unlinkStale(r, d, before)),
      deleteUntagged: (r, d, before) => inTx((tx) => tx.gc.deleteUntagged(r, d, before)),
    },
    quotas: { ...reads.quotas, recount: (project) => inTx((tx) => tx.quotas.recount(project)) },
  };
}
