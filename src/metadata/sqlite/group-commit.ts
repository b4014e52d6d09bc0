import type { Database } from 'better-sqlite3';

interface Pending {
  run: () => Promise<unknown>;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** How many transactions one commit may carry; bounds the latency the last of them waits. */
const maxBatch = 128;

/**
 * Group commit for the single SQLite writer. Transactions queue up; the writer runs a batch of them,
 * one after another, each inside its own SAVEPOINT within one BEGIN ... COMMIT, so a transaction that
 * throws is rolled back alone while the rest commit together. Every caller is answered only after the
 * COMMIT (with synchronous = FULL, after the fsync), so an acknowledged write is still durable; but
 * under load many transactions share one fsync instead of paying one each, and the event loop is blocked
 * for one fsync per batch rather than per write.
 *
 * Batches form naturally: the next batch starts from setImmediate, after the event loop has taken in
 * the requests that arrived while the previous commit was blocking it.
 */
export class GroupCommitter {
  private readonly queue: Pending[] = [];
  private running = false;
  /** The connection's current `synchronous` mode: FULL unless the last batch was all relaxed. */
  private synchronousFull = true;

  constructor(private readonly db: Database) {}

  /** `durable: false` lets a batch made only of such transactions commit without an fsync. */
  run<T>(transaction: () => Promise<T>, durable = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: transaction, durable, resolve: resolve as (value: unknown) => void, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Resolves once everything queued so far has been committed or rejected. */
  idle(): Promise<void> {
    return this.running ? this.run(() => Promise.resolve()).then(() => undefined) : Promise.resolve();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, maxBatch);
      const outcomes = await this.runBatch(batch);
      batch.forEach((pending, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) pending.resolve(outcome.value);
        else pending.reject(outcome.error);
      });
      if (this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    this.running = false;
  }

  private async runBatch(
    batch: Pending[],
  ): Promise<({ ok: true; value: unknown } | { ok: false; error: unknown })[]> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      // In WAL mode NORMAL skips the commit's fsync; the WAL is appended in order, so the next FULL
      // commit's fsync makes these commits durable too, and a crash before it loses them whole.
      const full = batch.some((pending) => pending.durable);
      if (full !== this.synchronousFull) {
        this.db.pragma(`synchronous = ${full ? 'FULL' : 'NORMAL'}`);
        this.synchronousFull = full;
      }
      this.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      return batch.map(() => ({ ok: false, error }));
    }
    for (const pending of batch) {
      this.db.exec('SAVEPOINT berth_tx');
      try {
        const value = await pending.run();
        this.db.exec('RELEASE berth_tx');
        outcomes.push({ ok: true, value });
      } catch (error) {
        this.db.exec('ROLLBACK TO berth_tx');
        this.db.exec('RELEASE berth_tx');
        outcomes.push({ ok: false, error });
      }
    }
    try {
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      return batch.map(() => ({ ok: false, error }));
    }
    return outcomes;
  }
}
