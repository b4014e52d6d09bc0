import type { Bounds } from './options.js';
import type { RegistryClient } from './registry-client.js';
import type { RunningServer } from './servers.js';

/** What one operation moved: payload bytes and HTTP requests. */
export interface OpOutcome {
  bytes: number;
  requests: number;
}

export type Metric = 'MB/s' | 'req/s' | 'ops/s';

/** One measured workload, bound to what `prepare` seeded on one server. */
export interface Scenario {
  name: string;
  /** MB/s: payload bytes; req/s: HTTP requests; ops/s: operations (say what one is in `unitNote`). */
  metric: Metric;
  unitNote?: string;
  concurrency: number;
  bounds: Bounds;
  /** Unmeasured operations before the first round, so neither server is measured cold. */
  warmupOps?: number;
  /** Operation number `i` of a run, over the run's own client pool. */
  op(client: RegistryClient, i: number): Promise<OpOutcome>;
}

/**
 * Scenarios that share seeded data. Each group gets a fresh pair of servers; `prepare` seeds one of them
 * (not measured; through `client`, or on disk in `server.dataDir`) and returns the scenarios, in the same
 * order for both servers.
 */
export interface ScenarioGroup {
  name: string;
  prepare(client: RegistryClient, server: RunningServer): Promise<Scenario[]>;
}

/** Runs `fn` over `items` with at most `concurrency` in flight (for seeding). */
export async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
