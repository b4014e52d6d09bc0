import type { Bounds } from './options.js';
import { SelfCpu } from './proc-stats.js';
import type { OpOutcome } from './scenario.js';

export interface LoadResult {
  ops: number;
  requests: number;
  bytes: number;
  seconds: number;
  latenciesMs: number[];
  errors: number;
  firstError?: string;
  loadgenCpuSeconds: number;
  /** Average cores the load generator kept busy (1 = one core saturated). */
  loadgenCores: number;
}

/** Failures after which a run stops issuing operations (the server is broken or the scenario unsupported). */
const maxErrors = 3;

/**
 * Closed-loop load: `concurrency` workers each run one operation at a time until `maxOps` have started or
 * `maxSeconds` have passed. Latency is per operation; the run's time ends with its last operation.
 */
export async function runLoad(
  concurrency: number,
  bounds: Bounds,
  op: (i: number) => Promise<OpOutcome>,
): Promise<LoadResult> {
  const cpu = new SelfCpu();
  const latenciesMs: number[] = [];
  let next = 0;
  let requests = 0;
  let bytes = 0;
  let errors = 0;
  let firstError: string | undefined;
  cpu.start();
  const started = performance.now();
  const deadline = started + bounds.maxSeconds * 1000;
  const worker = async () => {
    while (next < bounds.maxOps && performance.now() < deadline && errors < maxErrors) {
      const i = next++;
      const opStarted = performance.now();
      try {
        const outcome = await op(i);
        latenciesMs.push(performance.now() - opStarted);
        requests += outcome.requests;
        bytes += outcome.bytes;
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const usage = cpu.stop();
  return {
    ops: latenciesMs.length,
    requests,
    bytes,
    seconds,
    latenciesMs,
    errors,
    ...(firstError !== undefined && { firstError }),
    loadgenCpuSeconds: usage.cpuSeconds,
    loadgenCores: usage.cores,
  };
}
