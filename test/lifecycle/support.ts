import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/core/ports.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/store.js';
import { startTestBerth, type TestBerth } from '../support/berth.js';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(public time: Date) {}
  now(): Date {
    return new Date(this.time.getTime());
  }
  advance(ms: number): void {
    this.time = new Date(this.time.getTime() + ms);
  }
}

export async function tempStore(): Promise<{ store: SqliteMetadataStore; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-lifecycle-'));
  const store = new SqliteMetadataStore(join(dir, 'berth.db'));
  return {
    store,
    dispose: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A Berth with a zero GC grace window and no scheduler timer (tests trigger runs themselves). */
export function startGcBerth(graceSeconds = 0, clock?: Clock): Promise<TestBerth> {
  return startTestBerth(
    { lifecycle: { gcGraceSeconds: graceSeconds, schedulerTickSeconds: 0 } },
    clock === undefined ? {} : { clock },
  );
}

/** Runs GC to the end and returns its result. */
export async function runGc(
  berth: TestBerth,
  parameters: Record<string, unknown> = {},
): Promise<Record<string, number>> {
  const outcome = await berth.scheduler.trigger('gc', 'Manual', parameters);
  if (!outcome.ok) throw new Error(`gc did not start: ${outcome.reason}`);
  const run = await outcome.done;
  if (run?.status !== 'Success') throw new Error(`gc ended ${run?.status}: ${JSON.stringify(run?.result)}`);
  return run.result as Record<string, number>;
}
