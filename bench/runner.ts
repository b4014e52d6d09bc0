import { runLoad, type LoadResult } from './load.js';
import type { Profile } from './options.js';
import { ProcessesWatch, type ProcessUsage } from './proc-stats.js';
import { RegistryClient } from './registry-client.js';
import type { Metric, Scenario, ScenarioGroup } from './scenario.js';
import {
  serverNames,
  startBerth,
  startDistribution,
  type RunningServer,
  type ServerName,
} from './servers.js';
import { MB, median, percentile } from './stats.js';

/** Above this many busy cores the load generator, not the server, may have set the pace. */
export const loadgenSaturation = 0.9;

export interface RoundResult {
  round: number;
  throughput: number;
  ops: number;
  requests: number;
  bytes: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  cpuSeconds: number;
  peakRssMiB: number;
  loadgenCores: number;
  errors: number;
  firstError?: string;
}

export interface ServerSummary {
  /** Median of the rounds' throughput, in the scenario's metric. */
  throughput: number;
  /** Latency percentiles over the operations of all rounds. */
  p50Ms: number;
  p99Ms: number;
  /** Median CPU seconds (utime + stime) per round. */
  cpuSeconds: number;
  /** Median server cores busy during a round (CPU seconds / wall seconds). */
  serverCores: number;
  /** Server CPU per unit of work: ms per MB, µs per request or ms per operation. */
  cpuPerUnit: number;
  peakRssMiB: number;
  /** Highest load-generator CPU (cores) in any round. */
  loadgenCores: number;
  requestsPerOp: number;
  errors: number;
  firstError?: string;
  rounds: RoundResult[];
}

export interface ScenarioResult {
  group: string;
  name: string;
  metric: Metric;
  unitNote?: string;
  concurrency: number;
  servers: Record<ServerName, ServerSummary>;
  /** Berth's median throughput over Distribution's. */
  ratio: number;
  loadgenSaturated: boolean;
}

function throughputOf(metric: Metric, load: LoadResult): number {
  if (load.seconds <= 0) return 0;
  if (metric === 'MB/s') return load.bytes / MB / load.seconds;
  return (metric === 'req/s' ? load.requests : load.ops) / load.seconds;
}

export function cpuPerUnit(metric: Metric, rounds: RoundResult[]): number {
  const total = (pick: (r: RoundResult) => number) => rounds.reduce((sum, r) => sum + pick(r), 0);
  const cpu = total((r) => r.cpuSeconds);
  if (metric === 'MB/s') return (cpu * 1000) / (total((r) => r.bytes) / MB);
  if (metric === 'req/s') return (cpu * 1e6) / total((r) => r.requests);
  return (cpu * 1000) / total((r) => r.ops);
}

export function cpuUnitLabel(metric: Metric): string {
  return metric === 'MB/s' ? 'CPU ms/MB' : metric === 'req/s' ? 'CPU µs/req' : 'CPU ms/op';
}

/**
 * One measured run of `scenario` against a registry at `origins` (requests round-robin when several),
 * watching the server processes `pids` (CPU summed, peak RSS of the largest).
 */
export async function measureRound(
  origins: string | readonly string[],
  pids: readonly number[],
  scenario: Scenario,
  round: number,
): Promise<{ result: RoundResult; latencies: number[] }> {
  const client = new RegistryClient(origins, scenario.concurrency);
  const watch = new ProcessesWatch(pids);
  let usage: ProcessUsage;
  let load: LoadResult;
  try {
    watch.start();
    load = await runLoad(scenario.concurrency, scenario.bounds, (i) => scenario.op(client, i));
  } finally {
    usage = watch.stop();
    await client.close();
  }
  const result: RoundResult = {
    round,
    throughput: throughputOf(scenario.metric, load),
    ops: load.ops,
    requests: load.requests,
    bytes: load.bytes,
    seconds: load.seconds,
    p50Ms: percentile(load.latenciesMs, 50),
    p99Ms: percentile(load.latenciesMs, 99),
    cpuSeconds: usage.cpuSeconds,
    peakRssMiB: usage.peakRssMiB,
    loadgenCores: load.loadgenCores,
    errors: load.errors,
    ...(load.firstError !== undefined && { firstError: load.firstError }),
  };
  return { result, latencies: load.latenciesMs };
}

function measure(
  server: RunningServer,
  scenario: Scenario,
  round: number,
): Promise<{ result: RoundResult; latencies: number[] }> {
  return measureRound(server.origin, [server.pid], scenario, round);
}

export function summarize(scenario: Scenario, rounds: RoundResult[], latencies: number[]): ServerSummary {
  const cpuSeconds = median(rounds.map((r) => r.cpuSeconds));
  const ops = rounds.reduce((sum, r) => sum + r.ops, 0);
  const firstError = rounds.find((r) => r.firstError !== undefined)?.firstError;
  return {
    throughput: median(rounds.map((r) => r.throughput)),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuSeconds,
    serverCores: median(rounds.map((r) => (r.seconds > 0 ? r.cpuSeconds / r.seconds : 0))),
    cpuPerUnit: cpuPerUnit(scenario.metric, rounds),
    peakRssMiB: Math.max(...rounds.map((r) => r.peakRssMiB)),
    loadgenCores: Math.max(...rounds.map((r) => r.loadgenCores)),
    requestsPerOp: ops > 0 ? rounds.reduce((sum, r) => sum + r.requests, 0) / ops : 0,
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    ...(firstError !== undefined && { firstError }),
    rounds,
  };
}

/** The scenario's unmeasured warm-up operations against `origins`; fails on any error. */
export async function warmUpOn(
  origins: string | readonly string[],
  label: string,
  scenario: Scenario,
): Promise<void> {
  const ops = scenario.warmupOps ?? 0;
  if (ops === 0) return;
  const client = new RegistryClient(origins, scenario.concurrency);
  try {
    const load = await runLoad(scenario.concurrency, { maxOps: ops, maxSeconds: 10 }, (i) =>
      scenario.op(client, i),
    );
    if (load.errors > 0)
      throw new Error(`${label}: warm-up of "${scenario.name}" failed: ${load.firstError}`);
  } finally {
    await client.close();
  }
}

function warmUp(server: RunningServer, scenario: Scenario): Promise<void> {
  return warmUpOn(server.origin, server.name, scenario);
}

const starters: Record<ServerName, () => Promise<RunningServer>> = {
  berth: startBerth,
  distribution: startDistribution,
};

/**
 * Runs one group: a fresh Berth and a fresh Distribution, each seeded by `prepare` (not measured), then
 * every scenario for `rounds` rounds, alternating the servers (Berth, Distribution, Berth, ...).
 */
export async function runGroup(
  group: ScenarioGroup,
  profile: Profile,
  log: (line: string) => void,
): Promise<ScenarioResult[]> {
  const servers: Partial<Record<ServerName, RunningServer>> = {};
  try {
    // Seeding is not measured, so both servers start and seed at the same time.
    const prepared = {} as Record<ServerName, Scenario[]>;
    await Promise.all(
      serverNames.map(async (name) => {
        const server = (servers[name] = await starters[name]());
        const seedClient = new RegistryClient(server.origin, 16);
        const started = performance.now();
        try {
          prepared[name] = await group.prepare(seedClient, server);
        } finally {
          await seedClient.close();
        }
        log(`  ${name} ready, seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      }),
    );
    const results: ScenarioResult[] = [];
    for (let index = 0; index < prepared.berth.length; index++) {
      const scenarios = { berth: prepared.berth[index]!, distribution: prepared.distribution[index]! };
      const rounds: Record<ServerName, RoundResult[]> = { berth: [], distribution: [] };
      const latencies: Record<ServerName, number[]> = { berth: [], distribution: [] };
      for (const name of serverNames) await warmUp(servers[name]!, scenarios[name]);
      for (let round = 1; round <= profile.rounds; round++) {
        for (const name of serverNames) {
          const measured = await measure(servers[name]!, scenarios[name], round);
          rounds[name].push(measured.result);
          for (const latency of measured.latencies) latencies[name].push(latency);
        }
      }
      const spec = scenarios.berth;
      const summaries = {
        berth: summarize(spec, rounds.berth, latencies.berth),
        distribution: summarize(scenarios.distribution, rounds.distribution, latencies.distribution),
      };
      results.push({
        group: group.name,
        name: spec.name,
        metric: spec.metric,
        ...(spec.unitNote !== undefined && { unitNote: spec.unitNote }),
        concurrency: spec.concurrency,
        servers: summaries,
        ratio: summaries.berth.throughput / summaries.distribution.throughput,
        loadgenSaturated:
          Math.max(summaries.berth.loadgenCores, summaries.distribution.loadgenCores) > loadgenSaturation,
      });
    }
    return results;
  } finally {
    for (const name of serverNames) await servers[name]?.stop();
  }
}
