// The shared backends of the scale-out benchmark: PostgreSQL (a fresh database per deployment), an S3
// server (the test one from ../shared/services/s3-server.sh unless S3_ENDPOINT names one; a fresh bucket
// per deployment), and Berth deployments of one or more nodes on them. Loopback only.
import type { S3Client } from '@aws-sdk/client-s3';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { stringify } from 'yaml';
import { createS3Client } from '../src/storage/s3/options.js';
import { adminUrl } from '../test/support/postgres.js';
import { freshBucket } from '../test/support/s3.js';
import { repoRoot } from './paths.js';
import { cpuBetween, cpuByPid } from './proc-stats.js';
import { startBerth, type RunningServer } from './servers.js';

export const s3Script = join(repoRoot, '..', 'shared', 'services', 's3-server.sh');

export interface S3Settings {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** The S3 server and PostgreSQL of one run. */
export interface Backends {
  s3: S3Settings;
  /** What serves S3, for the report. */
  s3Description: string;
  /** Where PostgreSQL is (without a password), for the report. */
  postgresDescription: string;
  s3Admin: S3Client;
  /** CPU seconds of the S3 server's processes so far, by pid; empty when this run did not start it. */
  s3Cpu(): Map<number, number>;
  /** CPU seconds of the PostgreSQL backends serving `database`, by pid. */
  postgresCpu(database: string): Promise<Map<number, number>>;
  /** A new, empty database (named berth_bench_<random>), and a function that drops it. */
  createDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }>;
  /**
   * Runs `step` at `close` unless it ran to its end before (the deployments' cleanups, for a run that stops
   * early). Returns a function that runs it now, once; `close` waits for a run already under way.
   */
  onClose(step: () => Promise<unknown>): () => Promise<void>;
  /** Runs what is left of `onClose`, then stops what this run started (the S3 server) and removes its data. */
  close(): Promise<void>;
}

const portFree = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', () => done(true));
  });

/** A base port whose five ports (S3 and Swift's four internal ones) are all free. */
async function freeS3Port(): Promise<number> {
  const wanted = process.env.BENCH_S3_PORT;
  if (wanted !== undefined) return Number(wanted);
  for (let base = 8390; base < 8600; base += 10) {
    const ports = [0, 1, 2, 3, 4].map((offset) => base + offset);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no five free consecutive loopback ports between 8390 and 8600 for the S3 server');
}

/** Like scripts/run-tests.js: start the local PostgreSQL cluster when it is installed but down. */
function ensurePostgres(log: (line: string) => void): void {
  if (process.env.BERTH_TEST_POSTGRES_URL) return;
  const ready = spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']);
  if (ready.status === 0 || !existsSync('/etc/postgresql')) return;
  const version = readdirSync('/etc/postgresql')[0];
  if (version === undefined) return;
  log(`starting PostgreSQL ${version} (left running afterwards, as scripts/run-tests.js does)`);
  spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
}

function pidsOf(runDir: string): number[] {
  if (!existsSync(runDir)) return [];
  return readdirSync(runDir)
    .filter((name) => name.endsWith('.pid'))
    .map((name) => Number(readFileSync(join(runDir, name), 'utf8').trim().split(/\s+/)[0]))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

export async function openBackends(log: (line: string) => void): Promise<Backends> {
  ensurePostgres(log);
  const admin = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${redacted(adminUrl)} (set BERTH_TEST_POSTGRES_URL): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const serverVersion =
    (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';

  let s3: S3Settings;
  let s3Description: string;
  let stopS3 = async () => {};
  let s3Pids: number[] = [];
  try {
    if (process.env.S3_ENDPOINT) {
      s3 = {
        endpoint: process.env.S3_ENDPOINT,
        region: process.env.S3_REGION ?? 'us-east-1',
        accessKeyId: process.env.S3_ACCESS_KEY ?? '',
        secretAccessKey: process.env.S3_SECRET_KEY ?? '',
      };
      s3Description = `S3 at ${s3.endpoint} (S3_ENDPOINT, not started by the bench; its CPU is not measured)`;
    } else {
      if (!existsSync(s3Script)) throw new Error(`S3_ENDPOINT is not set and ${s3Script} does not exist`);
      const dataDir = await mkdtemp(join(tmpdir(), 'bench-s3-'));
      const port = await freeS3Port();
      log(`starting the S3 test server on 127.0.0.1:${port} (data in ${dataDir})...`);
      const started = performance.now();
      stopS3 = async () => {
        spawnSync('bash', [s3Script, 'stop', dataDir], { stdio: ['ignore', 'ignore', 'inherit'] });
        await rm(dataDir, { recursive: true, force: true });
      };
      let output: string;
      try {
        output = execFileSync('bash', [s3Script, 'start', dataDir, String(port)], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 180_000,
        });
      } catch (error) {
        await stopS3();
        const stderr = (error as { stderr?: string }).stderr ?? '';
        throw new Error(
          `the S3 test server did not start: ${(error as Error).message}\n${stderr.slice(-2000)}`,
          {
            cause: error,
          },
        );
      }
      const vars: Record<string, string> = {};
      for (const line of output.split('\n')) {
        const match = /^(S3_[A-Z_]+)=(.*)$/.exec(line.trim());
        if (match) vars[match[1]!] = match[2]!.replace(/^'(.*)'$/, '$1');
      }
      s3 = {
        endpoint: vars.S3_ENDPOINT ?? `http://127.0.0.1:${port}`,
        region: vars.S3_REGION ?? 'us-east-1',
        accessKeyId: vars.S3_ACCESS_KEY ?? '',
        secretAccessKey: vars.S3_SECRET_KEY ?? '',
      };
      s3Pids = pidsOf(join(dataDir, 'run'));
      log(`  S3 ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      s3Description = `OpenStack Swift 2.30 s3api on ${s3.endpoint}, one node, one replica, started by the bench (../shared/services/s3-server.sh); its CPU is that of its ${s3Pids.length} processes`;
    }
  } catch (error) {
    await admin.end().catch(() => undefined);
    throw error;
  }
  const s3Admin = createS3Client({ bucket: 'unused', forcePathStyle: true, ...s3 });
  const pending = new Set<() => Promise<void>>();
  return {
    s3,
    s3Description,
    postgresDescription: `PostgreSQL ${serverVersion} at ${redacted(adminUrl)}`,
    s3Admin,
    s3Cpu: () => cpuByPid(s3Pids),
    postgresCpu: async (database) => {
      const rows = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
        database,
      ]);
      return cpuByPid(rows.rows.map((row) => row.pid));
    },
    createDatabase: async () => {
      const name = `berth_bench_${randomBytes(6).toString('hex')}`; // generated: safe to splice into SQL
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return {
        name,
        url: url.toString(),
        drop: async () => {
          await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        },
      };
    },
    onClose: (step) => {
      let running: Promise<void> | undefined;
      const run = () =>
        (running ??= (async () => {
          try {
            await step();
          } finally {
            pending.delete(run);
          }
        })());
      pending.add(run);
      return run;
    },
    close: async () => {
      for (const step of [...pending].reverse()) {
        await step().catch((error: unknown) =>
          process.stderr.write(`  cleanup: ${(error as Error).message}\n`),
        );
      }
      s3Admin.destroy();
      await admin.end().catch(() => undefined);
      await stopS3();
    },
  };
}

/** Berth on a set of backends: one process, or several nodes sharing PostgreSQL and S3. */
export interface Deployment {
  nodes: RunningServer[];
  origins: string[];
  pids: number[];
  /** The PostgreSQL database the nodes use; undefined on the embedded backends. */
  database?: string;
  stop(): Promise<void>;
}

/** One Berth on its embedded backends (SQLite + filesystem) in a fresh temp folder, as the main bench runs it. */
export async function startEmbedded(): Promise<Deployment> {
  const node = await startBerth();
  return { nodes: [node], origins: [node.origin], pids: [node.pid], stop: () => node.stop() };
}

/**
 * `count` Berth nodes on a fresh PostgreSQL database and a fresh bucket, all started with the same
 * configuration file (S3 storage, PostgreSQL metadata) and the database URL in BERTH_METADATA_URL, the
 * way docs/deploy.md deploys them. `stop` stops the nodes, then removes the bucket and the database.
 */
export async function startCluster(backends: Backends, count: number): Promise<Deployment> {
  const cleanups: (() => Promise<unknown>)[] = [];
  // Also run by backends.close() if the run stops before this deployment does.
  const cleanup = backends.onClose(async () => {
    for (const step of cleanups.reverse()) {
      await step().catch((error: unknown) =>
        process.stderr.write(`  cleanup: ${(error as Error).message}\n`),
      );
    }
  });
  try {
    const database = await backends.createDatabase();
    cleanups.push(() => database.drop());
    const bucket = `berth-bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    cleanups.push(await freshBucket(backends.s3Admin, bucket));
    const dir = await mkdtemp(join(tmpdir(), 'bench-cluster-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'berth.yaml');
    const config = {
      server: { shutdownGraceMs: 2000 },
      storage: { driver: 's3', bucket, prefix: 'registry/', forcePathStyle: true, ...backends.s3 },
      metadata: { driver: 'postgres', url: 'postgres://placeholder@localhost/placeholder' },
    };
    await writeFile(configFile, stringify(config));
    const env = { BERTH_METADATA_URL: database.url };
    const nodes: RunningServer[] = [];
    cleanups.push(() => Promise.all(nodes.map((node) => node.stop())));
    // Together, as a deployment starts them: the first to take the migration lock migrates.
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => startBerth({ configFile, env })),
    );
    for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    return {
      nodes,
      origins: nodes.map((node) => node.origin),
      pids: nodes.map((node) => node.pid),
      database: database.name,
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** CPU of PostgreSQL and S3 during one measured run of a deployment. */
export async function backendCpuWatch(
  backends: Backends,
  deployment: Deployment,
): Promise<() => Promise<{ postgres?: number; s3?: number }>> {
  if (deployment.database === undefined) return () => Promise.resolve({});
  const database = deployment.database;
  const pgBefore = await backends.postgresCpu(database);
  const s3Before = backends.s3Cpu();
  const measured = s3Before.size > 0;
  return async () => {
    const s3After = backends.s3Cpu();
    const pgAfter = await backends.postgresCpu(database);
    return {
      postgres: cpuBetween(pgBefore, pgAfter),
      ...(measured && { s3: cpuBetween(s3Before, s3After) }),
    };
  };
}
