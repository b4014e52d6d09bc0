import type { Metric } from './scenario.js';
import { table } from './report.js';
import { cpuUnitLabel, loadgenSaturation, type RoundResult, type ServerSummary } from './runner.js';
import { fmt } from './stats.js';

/** The deployments the scale-out benchmark compares. */
export type TargetKey = 'fs' | 's3x1' | 's3x3';
export const targetKeys: readonly TargetKey[] = ['fs', 's3x1', 's3x3'];
export const targetLabels: Record<TargetKey, string> = {
  fs: 'SQLite + filesystem',
  s3x1: 'PostgreSQL + S3, 1 node',
  s3x3: 'PostgreSQL + S3, 3 nodes',
};
const shortLabels: Record<TargetKey, string> = { fs: 'FS', s3x1: '1n', s3x3: '3n' };

/** A round with the CPU of the shared backends during it (absent on the embedded backends). */
export interface ScaleRound extends RoundResult {
  postgresCpuSeconds?: number;
  s3CpuSeconds?: number;
}

export interface TargetSummary extends ServerSummary {
  nodes: number;
  rounds: ScaleRound[];
  /** Median CPU seconds per round of the deployment's PostgreSQL backends and of the S3 server. */
  postgresCpuSeconds?: number;
  s3CpuSeconds?: number;
  /** Berth + PostgreSQL + S3 CPU per unit of work (what the deployment as a whole spent). */
  allCpuPerUnit: number;
}

export interface ScaleResult {
  group: string;
  name: string;
  metric: Metric;
  unitNote?: string;
  concurrency: number;
  targets: Partial<Record<TargetKey, TargetSummary>>;
  /** PostgreSQL + S3 (1 node) over SQLite + filesystem, and 3 nodes over 1 node (median throughputs). */
  ratios: { s3OverFs?: number; threeOverOne?: number };
  loadgenSaturated: boolean;
}

function ratio(value: number | undefined): string {
  return value !== undefined && Number.isFinite(value) ? `${value.toFixed(2)}x` : '-';
}

function opt(value: number | undefined): string {
  return value === undefined ? '-' : fmt(value);
}

function loadgen(cores: number): string {
  return `${fmt(cores)}${cores > loadgenSaturation ? ' SATURATED' : ''}`;
}

function errors(summary: TargetSummary): string {
  return summary.errors === 0 ? '' : ` (${summary.errors} errors: ${summary.firstError ?? ''})`;
}

/** One scenario: a row per deployment, then the ratios. Printed as each scenario finishes. */
export function scaleScenarioBlock(result: ScaleResult): string {
  const unit = cpuUnitLabel(result.metric);
  const header = [
    'deployment',
    `${result.metric} (median)`,
    'p50 ms',
    'p99 ms',
    'Berth CPU s/round',
    'PostgreSQL CPU s/round',
    'S3 CPU s/round',
    `Berth ${unit}`,
    `all ${unit}`,
    'peak RSS MiB (largest node)',
    'req/op',
    'ops',
    'loadgen cores',
  ];
  const rows = targetKeys.flatMap((key) => {
    const s = result.targets[key];
    if (s === undefined) return [];
    return [
      [
        targetLabels[key] + errors(s),
        fmt(s.throughput),
        fmt(s.p50Ms),
        fmt(s.p99Ms),
        fmt(s.cpuSeconds),
        opt(s.postgresCpuSeconds),
        opt(s.s3CpuSeconds),
        fmt(s.cpuPerUnit),
        fmt(s.allCpuPerUnit),
        fmt(s.peakRssMiB),
        fmt(s.requestsPerOp),
        s.rounds.map((r) => r.ops).join('/'),
        loadgen(s.loadgenCores),
      ],
    ];
  });
  const note = result.unitNote === undefined ? '' : ` (${result.unitNote})`;
  const ratios = [
    result.ratios.s3OverFs !== undefined &&
      `PostgreSQL + S3 (1 node) / SQLite + filesystem: ${ratio(result.ratios.s3OverFs)}`,
    result.ratios.threeOverOne !== undefined && `3 nodes / 1 node: ${ratio(result.ratios.threeOverOne)}`,
  ].filter((line) => line !== false);
  const saturated = result.loadgenSaturated
    ? ' - load generator SATURATED, the faster deployment may be understated'
    : '';
  return [
    `### ${result.name}${note}`,
    '',
    table(header, rows),
    '',
    `${ratios.join('; ')}${saturated}`,
    '',
  ].join('\n');
}

/** Every scenario that ran on both `a` and `b`, one row each: the tables to read first. */
export function comparisonTable(results: ScaleResult[], a: TargetKey, b: TargetKey): string {
  const pairLabel = `${shortLabels[a]} / ${shortLabels[b]}`;
  const header = [
    'scenario',
    'unit',
    targetLabels[a],
    targetLabels[b],
    `${b === 's3x3' ? '3 nodes / 1 node' : 'PG+S3 / SQLite+FS'}`,
    `p50 ms ${pairLabel}`,
    `p99 ms ${pairLabel}`,
    `Berth CPU s ${pairLabel}`,
    `PG + S3 CPU s ${pairLabel}`,
    `all CPU per unit ${pairLabel}`,
    'loadgen cores',
  ];
  const rows = results.flatMap((result) => {
    const x = result.targets[a];
    const y = result.targets[b];
    if (x === undefined || y === undefined) return [];
    const pair = (pick: (s: TargetSummary) => number | undefined) => `${opt(pick(x))} / ${opt(pick(y))}`;
    const backend = (s: TargetSummary) =>
      s.postgresCpuSeconds === undefined ? undefined : s.postgresCpuSeconds + (s.s3CpuSeconds ?? 0);
    const failed = x.errors > 0 || y.errors > 0 ? ' (errors)' : '';
    return [
      [
        result.name + failed,
        result.metric,
        fmt(x.throughput),
        fmt(y.throughput),
        `**${ratio(y.throughput / x.throughput)}**`,
        pair((s) => s.p50Ms),
        pair((s) => s.p99Ms),
        pair((s) => s.cpuSeconds),
        pair(backend),
        pair((s) => s.allCpuPerUnit),
        loadgen(Math.max(x.loadgenCores, y.loadgenCores)),
      ],
    ];
  });
  return table(header, rows);
}
