import { Pool } from 'pg';
import type { MetadataScope, MetadataStore, TransactionOptions } from '../../core/ports.js';
import { PostgresIdentityQueries } from './identity-queries.js';
import { migrate } from './migrations.js';
import { PostgresQueries, scopeOver } from './queries.js';
import { PostgresLifecycleQueries } from './lifecycle-queries.js';
import { jobsGcQuotaScope, jobsGcQuotaStores } from './lifecycle-scope.js';
import { PostgresRetentionQueries, lifecycleScope } from './retention-queries.js';

export interface PostgresMetadataOptions {
  /** Most connections this node opens; each transaction holds one until it ends. */
  maxConnections?: number;
  /**
   * Called when an idle pooled connection fails (the server restarted, say). The pool drops that
   * connection by itself; without a listener Node would treat the event as fatal and end the process.
   */
  onIdleError?: (error: Error) => void;
}

/** Runs of a transaction aborted by a deadlock before the error is passed on. */
const maxAttempts = 4;

/**
 * The scale-out MetadataStore on PostgreSQL. Reads outside a transaction go straight to the pool, one
 * statement each. Writes outside a transaction run as a short transaction of their own, because several
 * are more than one statement (create the repository, then link) and because each must take the
 * repository's lock, so it cannot slip between the reads and the writes of another node's transaction
 * (see PostgresQueries). Isolation is READ COMMITTED: the locks, not snapshots, keep transactions on a
 * repository apart, so `fn` runs once, unless it locks several repositories and loses a deadlock.
 */
export class PostgresMetadataStore implements MetadataStore {
  readonly repositories: MetadataScope['repositories'];
  readonly blobLinks: MetadataScope['blobLinks'];
  readonly manifests: MetadataScope['manifests'];
  readonly tags: MetadataScope['tags'];
  readonly uploads: MetadataScope['uploads'];
  readonly users: MetadataScope['users'];
  readonly projects: MetadataScope['projects'];
  readonly members: MetadataScope['members'];
  readonly robots: MetadataScope['robots'];
  readonly settings: MetadataScope['settings'];
  readonly retention: MetadataScope['retention'];
  readonly immutableRules: MetadataScope['immutableRules'];
  readonly jobs: MetadataScope['jobs'];
  readonly gc: MetadataScope['gc'];
  readonly quotas: MetadataScope['quotas'];

  /** Construction is async (connect, migrate), hence this factory. */
  static async connect(url: string, options: PostgresMetadataOptions = {}): Promise<PostgresMetadataStore> {
    const pool = new Pool({ connectionString: url, max: options.maxConnections ?? 10 });
    pool.on('error', options.onIdleError ?? (() => undefined));
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresMetadataStore(pool);
  }

  private constructor(private readonly pool: Pool) {
    const reads = {
      ...scopeOver(new PostgresQueries(pool, false), new PostgresIdentityQueries(pool)),
      ...lifecycleScope(new PostgresRetentionQueries(pool)),
      ...jobsGcQuotaScope(new PostgresLifecycleQueries(pool, false)),
    };
    const inTx = <R>(fn: (tx: MetadataScope) => Promise<R>, options?: TransactionOptions) =>
      this.transaction(fn, options);
    this.repositories = {
      ...reads.repositories,
      delete: (name) => inTx((tx) => tx.repositories.delete(name)),
    };
    this.blobLinks = {
      ...reads.blobLinks,
      link: (r, d, size) => inTx((tx) => tx.blobLinks.link(r, d, size)),
      unlink: (r, d) => inTx((tx) => tx.blobLinks.unlink(r, d)),
    };
    this.manifests = {
      ...reads.manifests,
      put: (m) => inTx((tx) => tx.manifests.put(m)),
      delete: (r, d) => inTx((tx) => tx.manifests.delete(r, d)),
      // recordPulls stays on the pool: one statement (one transaction), and it takes no repository lock.
    };
    this.tags = {
      ...reads.tags,
      set: (r, t, d, at) => inTx((tx) => tx.tags.set(r, t, d, at)),
      delete: (r, t) => inTx((tx) => tx.tags.delete(r, t)),
      deleteFor: (r, d) => inTx((tx) => tx.tags.deleteFor(r, d)),
    };
    // Upload sessions are keyed by id and each write is one statement: atomic on the pool as it is.
    this.uploads = {
      ...reads.uploads,
      // A short transaction rather than one statement on the pool, so its commit may skip the WAL flush.
      create: (session) => inTx((tx) => tx.uploads.create(session), { durable: false }),
    };
    // Users, projects, members, robots and settings take no repository lock, and each write is one
    // statement (putIfAbsent is two, correct on the pool: see PostgresIdentityQueries).
    this.users = reads.users;
    this.projects = reads.projects;
    this.members = reads.members;
    this.robots = reads.robots;
    this.settings = reads.settings;
    // Retention and immutable rule writes are one statement each and take no repository lock.
    this.retention = reads.retention;
    this.immutableRules = reads.immutableRules;
    ({ jobs: this.jobs, gc: this.gc, quotas: this.quotas } = jobsGcQuotaStores(reads, inTx, pool));
  }

  /**
   * Runs `fn` on one dedicated connection between BEGIN and COMMIT, or ROLLBACK when it throws. `fn`
   * must use only the scope it is given: calling this store's own methods from inside would need a
   * second connection and could wait on the repository lock `fn` itself holds. Transactions that touch
   * two repositories (a cross-repository mount, GC) take their locks in whatever order they meet them, so
   * two of them can deadlock; PostgreSQL then aborts one (40P01). That one is run again, a few times at most: `fn` only talks to the database (the
   * port keeps blob I/O out of transactions), so running it again after a rollback is safe.
   */
  async transaction<T>(fn: (tx: MetadataScope) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(fn, options.durable ?? true);
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (attempt >= maxAttempts || (code !== '40P01' && code !== '40001')) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  private async attempt<T>(fn: (tx: MetadataScope) => Promise<T>, durable: boolean): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      try {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        // PostgreSQL's own relaxed commit: visible at once, flushed with the next WAL flush.
        if (!durable) await client.query('SET LOCAL synchronous_commit = off');
        const result = await fn({
          ...scopeOver(new PostgresQueries(client, true), new PostgresIdentityQueries(client)),
          ...lifecycleScope(new PostgresRetentionQueries(client)),
          ...jobsGcQuotaScope(new PostgresLifecycleQueries(client, true)),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      }
    } finally {
      // A connection that could not roll back may still be inside the transaction: destroy it.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
