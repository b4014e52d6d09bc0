import type { OpensslCeiling, StaticCeiling } from './ceilings.js';
import type { Profile } from './options.js';
import { cpuUnitLabel, loadgenSaturation, type ScenarioResult, type ServerSummary } from './runner.js';
import { serverLabels, serverNames } from './servers.js';
import { fmt } from './stats.js';

export interface Environment {
  node: string;
  berthLogLevel: string;
  distribution: string;
  cpus: string;
  kernel: string;
  undici: string;
}

export interface Ceilings {
  openssl: OpensslCeiling;
  staticFile: StaticCeiling;
}

/** Figures derived from several scenarios: the ceilings comparison and Berth's memory target. */
export interface Derived {
  lines: string[];
  values: Record<string, number>;
}

/** Whether one operation took a different number of requests on each server (pagination differs). */
function differentWork(result: ScenarioResult): boolean {
  if (result.metric === 'MB/s') return false;
  const { berth, distribution } = result.servers;
  return (
    Math.abs(berth.requestsPerOp - distribution.requestsPerOp) >
    0.01 * Math.max(berth.requestsPerOp, distribution.requestsPerOp)
  );
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : '-';
}

function loadgen(cores: number): string {
  return `${fmt(cores)}${cores > loadgenSaturation ? ' SATURATED' : ''}`;
}

function errors(summary: ServerSummary): string {
  return summary.errors === 0 ? '' : ` (${summary.errors} errors: ${summary.firstError ?? ''})`;
}

/** One scenario: a row per server, then the ratio. Printed as each scenario finishes. */
export function scenarioBlock(result: ScenarioResult): string {
  const header = [
    'server',
    `${result.metric} (median)`,
    'p50 ms',
    'p99 ms',
    'CPU s/round',
    'server cores',
    cpuUnitLabel(result.metric),
    'peak RSS MiB',
    'req/op',
    'ops',
    'loadgen cores',
  ];
  const rows = serverNames.map((name) => {
    const s = result.servers[name];
    return [
      serverLabels[name] + errors(s),
      fmt(s.throughput),
      fmt(s.p50Ms),
      fmt(s.p99Ms),
      fmt(s.cpuSeconds),
      fmt(s.serverCores),
      fmt(s.cpuPerUnit),
      fmt(s.peakRssMiB),
      fmt(s.requestsPerOp),
      s.rounds.map((r) => r.ops).join('/'),
      loadgen(s.loadgenCores),
    ];
  });
  const note = result.unitNote === undefined ? '' : ` (${result.unitNote})`;
  const { berth, distribution } = result.servers;
  const sameWork =
    Math.abs(berth.requestsPerOp - distribution.requestsPerOp) <=
    0.01 * Math.max(berth.requestsPerOp, distribution.requestsPerOp);
  const workNote =
    sameWork || result.metric === 'MB/s'
      ? ''
      : `Note: one operation took ${fmt(berth.requestsPerOp)} requests on Berth and ${fmt(distribution.requestsPerOp)} on Distribution (the client asked for the same thing; the servers paginate differently).\n`;
  return [
    `### ${result.name}${note}`,
    '',
    table(header, rows),
    '',
    `Berth/Distribution: ${ratio(result.ratio)}${result.loadgenSaturated ? ' - load generator SATURATED, the ratio may understate the faster server' : ''}`,
    '',
    workNote,
  ].join('\n');
}

/** Every scenario on one row: the table to read first. */
export function summaryTable(results: ScenarioResult[]): string {
  const header = [
    'scenario',
    'unit',
    'Berth',
    'Distribution',
    'Berth/Dist',
    'p50 ms B / D',
    'p99 ms B / D',
    'CPU s B / D',
    'peak RSS MiB B / D',
    'loadgen cores',
  ];
  const rows = results.map((result) => {
    const pair = (pick: (s: ServerSummary) => number) =>
      `${fmt(pick(result.servers.berth))} / ${fmt(pick(result.servers.distribution))}`;
    const failed = serverNames.some((name) => result.servers[name].errors > 0) ? ' (errors)' : '';
    const paged = differentWork(result)
      ? ` (req/op B ${fmt(result.servers.berth.requestsPerOp)} / D ${fmt(result.servers.distribution.requestsPerOp)})`
      : '';
    return [
      result.name + failed + paged,
      result.metric,
      fmt(result.servers.berth.throughput),
      fmt(result.servers.distribution.throughput),
      `**${ratio(result.ratio)}**`,
      pair((s) => s.p50Ms),
      pair((s) => s.p99Ms),
      pair((s) => s.cpuSeconds),
      pair((s) => s.peakRssMiB),
      loadgen(Math.max(result.servers.berth.loadgenCores, result.servers.distribution.loadgenCores)),
    ];
  });
  return table(header, rows);
}

export function headerText(profile: Profile, env: Environment, started: Date): string {
  return [
    `# Berth vs CNCF Distribution (${profile.name} run, ${started.toISOString()})`,
    '',
    `- Berth: production build (dist/src/cli/main.js), BERTH_LOG_LEVEL=${env.berthLogLevel}, authentication off (as Distribution's), embedded filesystem + SQLite backends`,
    `- Distribution: ${env.distribution}, filesystem storage, inmemory blob descriptor cache, log level warn, access log off`,
    `- Node ${env.node}; ${env.cpus}; ${env.kernel}; both servers on 127.0.0.1 with fresh temp data folders per scenario group`,
    `- ${profile.rounds} rounds per scenario, servers alternating (Berth, Distribution, Berth, ...); throughput is the median round;`,
    '  p50/p99 are over all operations of all rounds; MB = 10^6 bytes; CPU = utime+stime of the server process',
    `- Load generator: undici ${env.undici} keep-alive Pool, one connection per client, plus a lean node:net HTTP/1.1 client (bench/lean-http.ts) for blob GETs and blob-carrying PUT/PATCHes; "SATURATED" marks a load generator above ${loadgenSaturation} of a core`,
    '',
  ].join('\n');
}

function runs(ceilings: Ceilings): string {
  const measured = ceilings.staticFile.runsMBps;
  return measured === undefined
    ? ''
    : `, better of ${measured.map(fmt).join(' and ')} MB/s before and after the scenarios`;
}

export function ceilingsText(ceilings: Ceilings, derived: Derived): string {
  return [
    '## Ceilings',
    '',
    `- Plain node:http static file server, 64 MiB file, same client (verifying sha256): ${fmt(ceilings.staticFile.pullMBps)} MB/s (median of ${ceilings.staticFile.samplesMBps.length}${runs(ceilings)}; server CPU ${fmt(ceilings.staticFile.serverCpuMsPerMB)} ms/MB)`,
    `- \`${ceilings.openssl.command}\`, 16384-byte column: ${fmt(ceilings.openssl.sha256MBps)} MB/s on one core`,
    `- Single-client 64 MiB PUT, same client, to a node:http server that drops the body: ${fmt(ceilings.staticFile.sinkPushMBps)} MB/s (${fmt((100 * ceilings.staticFile.sinkPushMBps) / ceilings.openssl.sha256MBps)}% of one core's sha256); that only hashes it: ${fmt(ceilings.staticFile.hashingSinkPushMBps)} MB/s (${fmt((100 * ceilings.staticFile.hashingSinkPushMBps) / ceilings.openssl.sha256MBps)}%), the most a registry that verifies digests can take on this machine`,
    ...derived.lines.map((line) => `- ${line}`),
    '',
  ].join('\n');
}
