// The scale-out benchmark: Berth on SQLite + filesystem versus Berth on PostgreSQL + S3 (one node), and
// PostgreSQL + S3 with one node versus three. `npm run bench:scale-out [-- --quick]`; see bench/README.md.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import {
  backendCpuWatch,
  openBackends,
  startCluster,
  startEmbedded,
  type Backends,
  type Deployment,
} from './backends.js';
import { BlobData } from './blob-data.js';
import { profiles, type Profile } from './options.js';
import { berthLogLevel, repoRoot, resultsDir } from './paths.js';
import { loadgenSaturation, cpuPerUnit, measureRound, summarize, warmUpOn } from './runner.js';
import type { Scenario, ScenarioGroup } from './scenario.js';
import { RegistryClient } from './registry-client.js';
import {
  comparisonTable,
  scaleScenarioBlock,
  targetKeys,
  targetLabels,
  type ScaleResult,
  type ScaleRound,
  type TargetKey,
  type TargetSummary,
} from './scale-out-report.js';
import { blobPullGroup, blobPushGroup } from './scenarios/blobs.js';
import { ciMixGroup } from './scenarios/ci-mix.js';
import { imagePushGroup } from './scenarios/image-push.js';
import { manifestGroup } from './scenarios/manifests.js';
import { MiB } from './stats.js';

/** Nodes of the larger cluster. */
const clusterNodes = 3;

interface ScaleOptions {
  quick: boolean;
  rounds?: number;
  only: string[];
}

const usage = `usage: node dist/bench/scale-out.js [--quick] [--rounds N] [--only SUBSTRING]...
  --quick      a run that finishes in under 4 minutes (fewer clients and operations per round)
  --rounds N   rounds per scenario, each deployment once per round (default 3)
  --only S     run only the scenarios whose name contains S (repeatable)`;

function parseScaleOptions(argv: string[]): ScaleOptions {
  const options: ScaleOptions = { quick: false, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--full') options.quick = false;
    else if (arg === '--rounds') options.rounds = Number(argv[++i]);
    else if (arg === '--only') options.only.push(argv[++i] ?? '');
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument ${arg}\n${usage}\n`);
      process.exit(2);
    }
  }
  if (options.rounds !== undefined && (!Number.isInteger(options.rounds) || options.rounds < 1)) {
    process.stderr.write('--rounds needs a positive integer\n');
    process.exit(2);
  }
  return options;
}

/** The main bench's profile, narrowed to the scenarios compared here. */
function scaleProfile(options: ScaleOptions): Profile {
  const base = options.quick ? profiles.quick : profiles.full;
  // 16 clients each pushing one 64 MiB blob into S3 take about 15 s per round here (one Swift proxy on two
  // shared cores), three rounds on two PostgreSQL + S3 deployments most of the quick budget: quick uses 8.
  const bigClients = options.quick ? 8 : 16;
  return {
    ...base,
    rounds: options.rounds ?? base.rounds,
    blobSizes: [64 * MiB],
    blobClients: [1, bigClients],
    // A round of N clients moving 64 MiB blobs lasts at least as long as N such transfers take, whatever
    // maxSeconds says (an operation once started always finishes), so quick gives each client one.
    blobBounds: options.quick
      ? (_size, clients) => ({ maxOps: clients === 1 ? 2 : clients, maxSeconds: 4 })
      : (_size, clients, kind) => ({
          maxOps: clients === 1 ? 6 : kind === 'push' ? 32 : 48,
          maxSeconds: clients === 1 ? 20 : 30,
        }),
    manifestPutClients: [],
    manifestReadClients: [32],
    imageClients: [4],
    ciMixClients: 16,
    requestBounds: options.quick ? { maxOps: 20_000, maxSeconds: 1 } : base.requestBounds,
  };
}

/** A scenario to run, on which deployments. */
interface Planned {
  name: string;
  targets: readonly TargetKey[];
}

interface PlannedGroup {
  group: ScenarioGroup;
  scenarios: Planned[];
}

const both: readonly TargetKey[] = ['fs', 's3x1'];
const all: readonly TargetKey[] = ['fs', 's3x1', 's3x3'];

function plan(profile: Profile, data: BlobData): PlannedGroup[] {
  const size = 64 * MiB;
  const [one, many] = profile.blobClients as [number, number];
  return [
    {
      group: blobPushGroup(profile, data, size, 'monolithic'),
      scenarios: [
        { name: `blob push monolithic 64 MiB x${one}`, targets: both },
        { name: `blob push monolithic 64 MiB x${many}`, targets: all },
      ],
    },
    {
      group: blobPullGroup(profile, data, size),
      scenarios: [
        { name: `blob pull 64 MiB x${one}`, targets: both },
        { name: `blob pull 64 MiB x${many}`, targets: both },
      ],
    },
    { group: manifestGroup(profile, data), scenarios: [{ name: 'manifest GET by tag x32', targets: all }] },
    { group: imagePushGroup(profile, data), scenarios: [{ name: 'image push x4', targets: both }] },
    {
      group: ciMixGroup(profile, data),
      scenarios: [{ name: `CI mix x${profile.ciMixClients}`, targets: all }],
    },
  ];
}

function startTarget(key: TargetKey, backends: Backends): Promise<Deployment> {
  if (key === 'fs') return startEmbedded();
  return startCluster(backends, key === 's3x1' ? 1 : clusterNodes);
}

function summarizeTarget(
  scenario: Scenario,
  nodes: number,
  rounds: ScaleRound[],
  latencies: number[],
): TargetSummary {
  const base = summarize(scenario, rounds, latencies);
  const median = (values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    const middle = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  const pg = rounds.flatMap((r) => (r.postgresCpuSeconds === undefined ? [] : [r.postgresCpuSeconds]));
  const s3 = rounds.flatMap((r) => (r.s3CpuSeconds === undefined ? [] : [r.s3CpuSeconds]));
  const allRounds = rounds.map((r) => ({
    ...r,
    cpuSeconds: r.cpuSeconds + (r.postgresCpuSeconds ?? 0) + (r.s3CpuSeconds ?? 0),
  }));
  return {
    ...base,
    nodes,
    rounds,
    ...(pg.length > 0 && { postgresCpuSeconds: median(pg) }),
    ...(s3.length > 0 && { s3CpuSeconds: median(s3) }),
    allCpuPerUnit: cpuPerUnit(scenario.metric, allRounds),
  };
}

/**
 * One group: fresh deployments for every target its scenarios need (seeded, not measured), then each
 * scenario for `rounds` rounds, alternating its deployments in the order SQLite + filesystem, one node,
 * three nodes.
 */
async function runScaleGroup(
  planned: PlannedGroup,
  profile: Profile,
  backends: Backends,
  log: (line: string) => void,
): Promise<ScaleResult[]> {
  const needed = targetKeys.filter((key) => planned.scenarios.some((s) => s.targets.includes(key)));
  const deployments: Partial<Record<TargetKey, Deployment>> = {};
  try {
    const prepared: Partial<Record<TargetKey, Scenario[]>> = {};
    // Seeding is not measured: every deployment starts and seeds at the same time.
    await Promise.all(
      needed.map(async (key) => {
        const started = performance.now();
        const deployment = (deployments[key] = await startTarget(key, backends));
        const seedClient = new RegistryClient(deployment.origins, 16);
        try {
          prepared[key] = await planned.group.prepare(seedClient, deployment.nodes[0]!);
        } finally {
          await seedClient.close();
        }
        log(
          `  ${targetLabels[key]} ready, started and seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
      }),
    );
    const results: ScaleResult[] = [];
    for (const { name, targets } of planned.scenarios) {
      const scenarioOf = (key: TargetKey) => {
        const found = prepared[key]!.find((s) => s.name === name);
        if (found === undefined) throw new Error(`group "${planned.group.name}" has no scenario "${name}"`);
        return found;
      };
      for (const key of targets) {
        // Every node gets the scenario's warm-up, as one server does in the main bench, and request-rate
        // scenarios at least 2,000 requests per node: the PostgreSQL paths were still getting faster
        // over the first thousands of requests (JIT, statement plans) where 200 warm the SQLite one.
        const scenario = scenarioOf(key);
        const perNode = scenario.warmupOps ?? 0;
        const warmupOps =
          deployments[key]!.nodes.length * (scenario.metric === 'req/s' ? Math.max(perNode, 2000) : perNode);
        await warmUpOn(deployments[key]!.origins, targetLabels[key], { ...scenario, warmupOps });
      }
      const rounds: Partial<Record<TargetKey, ScaleRound[]>> = {};
      const latencies: Partial<Record<TargetKey, number[]>> = {};
      for (let round = 1; round <= profile.rounds; round++) {
        for (const key of targets) {
          const deployment = deployments[key]!;
          const backendCpu = await backendCpuWatch(backends, deployment);
          const measured = await measureRound(deployment.origins, deployment.pids, scenarioOf(key), round);
          const backend = await backendCpu();
          (rounds[key] ??= []).push({
            ...measured.result,
            ...(backend.postgres !== undefined && { postgresCpuSeconds: backend.postgres }),
            ...(backend.s3 !== undefined && { s3CpuSeconds: backend.s3 }),
          });
          const list = (latencies[key] ??= []);
          for (const latency of measured.latencies) list.push(latency);
        }
        log(`  ${name}: round ${round}/${profile.rounds} done`);
      }
      const summaries: Partial<Record<TargetKey, TargetSummary>> = {};
      for (const key of targets) {
        summaries[key] = summarizeTarget(
          scenarioOf(key),
          deployments[key]!.nodes.length,
          rounds[key]!,
          latencies[key]!,
        );
      }
      const spec = scenarioOf(targets[0]!);
      const through = (key: TargetKey) => summaries[key]?.throughput;
      const over = (a: TargetKey, b: TargetKey) => {
        const x = through(a);
        const y = through(b);
        return x === undefined || y === undefined ? undefined : y / x;
      };
      const s3OverFs = over('fs', 's3x1');
      const threeOverOne = over('s3x1', 's3x3');
      results.push({
        group: planned.group.name,
        name,
        metric: spec.metric,
        ...(spec.unitNote !== undefined && { unitNote: spec.unitNote }),
        concurrency: spec.concurrency,
        targets: summaries,
        ratios: {
          ...(s3OverFs !== undefined && { s3OverFs }),
          ...(threeOverOne !== undefined && { threeOverOne }),
        },
        loadgenSaturated: Object.values(summaries).some((s) => s.loadgenCores > loadgenSaturation),
      });
    }
    return results;
  } finally {
    for (const key of needed) await deployments[key]?.stop();
  }
}

function headerText(profile: Profile, backends: Backends, started: Date, load: number[]): string {
  const cpuList = cpus();
  const undici = JSON.parse(
    readFileSync(join(repoRoot, 'node_modules', 'undici', 'package.json'), 'utf8'),
  ) as { version: string };
  return [
    `# Berth scale-out benchmark (${profile.name} run, ${started.toISOString()})`,
    '',
    `- Berth: production build (dist/src/cli/main.js), BERTH_LOG_LEVEL=${berthLogLevel}, authentication off`,
    `- Deployments: ${targetLabels.fs} (one process, embedded backends, fresh temp folder); ${targetLabels.s3x1}; ${targetLabels.s3x3} (every node with the same config file, S3 storage and PostgreSQL metadata, the URL in BERTH_METADATA_URL); each scenario group gets fresh deployments, each PostgreSQL + S3 deployment a fresh database and a fresh bucket`,
    `- ${backends.postgresDescription}; ${backends.s3Description}`,
    `- Node ${process.version}; ${cpuList.length} x ${cpuList[0]?.model ?? 'unknown CPU'}; Linux ${release()}; load average ${load.map((v) => v.toFixed(2)).join(' ')} at the start`,
    `- Everything runs on 127.0.0.1 on these ${cpuList.length} cores: the load generator, every Berth node, PostgreSQL and the S3 server (and whatever else the machine runs). More nodes add no CPU here: the three-node rows measure what spreading the work over processes costs or gains on the same cores, not what three machines would give.`,
    ...(profile.name === 'quick'
      ? [
          `- Quick run: ${profile.blobClients[1]} clients instead of 16 for 64 MiB blobs, each moving one blob per round; manifest GET up to ${profile.requestBounds.maxOps} requests or ${profile.requestBounds.maxSeconds} s per round, CI mix up to ${profile.ciMixBounds.maxSeconds} s`,
        ]
      : []),
    `- ${profile.rounds} rounds per scenario, deployments alternating (SQLite + filesystem, 1 node, 3 nodes, ...); throughput is the median round; p50/p99 are over all operations of all rounds; MB = 10^6 bytes`,
    "- CPU: Berth = utime+stime summed over the deployment's nodes; PostgreSQL = the backends connected to the deployment's database (not the WAL writer, checkpointer, ...); S3 = the S3 server's processes; \"all\" = the three together, per unit of work",
    `- Load generator: undici ${undici.version} keep-alive Pool per node, one connection per client per node, plus a lean node:net HTTP/1.1 client per node for blob GETs and blob-carrying PUT/PATCHes; with several nodes each request goes to the next node in turn (an upload's POST, PATCH and PUT land on different nodes); "SATURATED" marks a load generator above ${loadgenSaturation} of a core`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseScaleOptions(process.argv.slice(2));
  const profile = scaleProfile(options);
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const log = (text: string) => process.stderr.write(`${text}\n`);
  const started = new Date();
  const loadAtStart = loadavg();

  const backends = await openBackends(log);
  // Once: a signal and the end of main may both ask, and both must wait for it to finish.
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= backends.close());
  // Ctrl-C or a kill: stop the S3 server this run started (the Berth children die with the process).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the backends this run started...`);
      void close().finally(() => process.exit(130));
    });
  }
  try {
    const header = headerText(profile, backends, started, loadAtStart);
    out(header);
    log('generating 64 MiB of random bytes...');
    const data = new BlobData(64 * MiB);
    const planned = plan(profile, data)
      .map((p) => ({
        ...p,
        scenarios: p.scenarios.filter(
          (s) => options.only.length === 0 || options.only.some((o) => s.name.includes(o)),
        ),
      }))
      .filter((p) => p.scenarios.length > 0);

    const results: ScaleResult[] = [];
    const blocks: string[] = [];
    for (const group of planned) {
      log(`group: ${group.group.name}`);
      for (const result of await runScaleGroup(group, profile, backends, log)) {
        const block = scaleScenarioBlock(result);
        out(block);
        blocks.push(block);
        results.push(result);
      }
    }

    const finished = new Date();
    const loadAtEnd = loadavg();
    const seconds = ((finished.getTime() - started.getTime()) / 1000).toFixed(0);
    const summary = [
      `## ${targetLabels.fs} vs PostgreSQL + S3 (one node)`,
      '',
      comparisonTable(results, 'fs', 's3x1'),
      '',
      `## One node vs ${clusterNodes} nodes (PostgreSQL + S3, requests round-robin over the nodes)`,
      '',
      comparisonTable(results, 's3x1', 's3x3'),
      '',
    ].join('\n');
    const footer = `Finished in ${seconds} s; load average ${loadAtEnd.map((v) => v.toFixed(2)).join(' ')} at the end.`;
    out(summary);
    out(footer);

    await mkdir(resultsDir, { recursive: true });
    const stamp = started
      .toISOString()
      .replace(/:/g, '-')
      .replace(/\.\d+Z$/, 'Z');
    const base = join(resultsDir, `${stamp}-scale-out`);
    const json = {
      started: started.toISOString(),
      finished: finished.toISOString(),
      profile: profile.name,
      rounds: profile.rounds,
      clusterNodes,
      environment: {
        node: process.version,
        berthLogLevel,
        cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`,
        kernel: `Linux ${release()}`,
        loadAverageStart: loadAtStart,
        loadAverageEnd: loadAtEnd,
        postgres: backends.postgresDescription,
        s3: backends.s3Description,
      },
      deployments: targetLabels,
      scenarios: results,
    };
    await writeFile(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
    await writeFile(`${base}.md`, [header, summary, '## Scenarios', '', ...blocks, footer, ''].join('\n'));
    log(`results: ${base}.json and ${base}.md`);
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:scale-out: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
