import type { Digest } from '../oci/digest.js';
import type { Clock, ManifestStore } from '../ports.js';

interface Pending {
  repository: string;
  digest: Digest;
  at: Date;
  count: number;
}

export interface PullRecorderOptions {
  /** How often pending pulls are written (default 1 s). */
  intervalMs?: number;
  /** Distinct manifests kept before a write is started early (bounds memory). */
  maxPending?: number;
  /** Told about a batch that could not be written (the pulls are then not counted). */
  onError?: (error: unknown) => void;
}

/**
 * Counts manifest pulls off the request path: a pull only bumps an in-memory counter, and a timer writes
 * the batch through `ManifestStore.recordPulls` once a second. A crash loses at most the last second of
 * counts, which is what pull statistics can afford; the pull itself never waits on the database.
 */
export class PullRecorder {
  private pending = new Map<string, Pending>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxPending: number;

  constructor(
    private readonly manifests: Pick<ManifestStore, 'recordPulls'>,
    private readonly clock: Clock,
    private readonly options: PullRecorderOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 10_000;
    this.timer = setInterval(() => void this.flush(), options.intervalMs ?? 1_000);
    this.timer.unref();
  }

  record(repository: string, digest: Digest): void {
    const key = `${repository}\u0000${digest}`;
    const at = this.clock.now();
    const entry = this.pending.get(key);
    if (entry !== undefined) {
      entry.count += 1;
      entry.at = at;
      return;
    }
    this.pending.set(key, { repository, digest, at, count: 1 });
    if (this.pending.size >= this.maxPending) void this.flush();
  }

  /** Writes what is pending; batches are written one after the other. */
  flush(): Promise<void> {
    if (this.pending.size === 0) return this.flushing;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    const pulls: { repository: string; digest: Digest; at: Date }[] = [];
    for (const entry of batch) {
      const pull = { repository: entry.repository, digest: entry.digest, at: entry.at };
      for (let i = 0; i < entry.count; i++) pulls.push(pull);
    }
    this.flushing = this.flushing.then(() =>
      this.manifests.recordPulls(pulls).catch((error: unknown) => this.options.onError?.(error)),
    );
    return this.flushing;
  }

  /** Stops the timer and writes the last batch. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
