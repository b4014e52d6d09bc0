// Several Berth processes sharing one PostgreSQL database and one S3 bucket: the scale-out mode, run the
// way it is deployed (`berth serve --config <yaml>`, one process per node), on loopback.
//
// Needs PostgreSQL (test/support/postgres.ts) and an S3 server named by S3_ENDPOINT, S3_ACCESS_KEY,
// S3_SECRET_KEY and S3_REGION (scripts/run-tests.js starts both for files whose path contains
// "cluster"). Without them `startCluster` throws, and every test of the suite fails with the reason.
import type { S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createS3Client } from '../../src/storage/s3/options.js';
import { createDatabase, type TestDatabase } from './postgres.js';
import { freshBucket, s3Variables } from './s3.js';

const cli = join('dist', 'src', 'cli', 'main.js');
/** Key prefix of the cluster's objects in its bucket (what a deployment would set as storage.prefix). */
export const bucketPrefix = 'registry/';

/** One request as a node logged it (pino JSON on stdout). */
export interface LoggedRequest {
  node: string;
  method: string;
  path: string;
  status: number;
}

export class ClusterNode {
  /** `127.0.0.1:PORT`, as client references spell the registry. */
  readonly registry: string;
  readonly base: string;
  private child: ChildProcessWithoutNullStreams | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Everything the current and earlier processes of this node printed (for failure messages). */
  output = '';

  constructor(
    readonly name: string,
    readonly port: number,
    readonly configFile: string,
    private readonly requests: LoggedRequest[],
    /** The node's `data` folder (where a first start saves a generated admin password). */
    readonly dataDir: string,
  ) {
    this.registry = `127.0.0.1:${port}`;
    this.base = `http://${this.registry}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process and waits for its "listening" line (and thus for stores and migrations). */
  async start(): Promise<void> {
    if (this.child !== undefined) throw new Error(`node ${this.name} is already running`);
    // Only the config file configures the node: BERTH_* variables of the test environment stay out.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('BERTH_')));
    const child = spawn(process.execPath, [cli, 'serve', '--config', this.configFile], { env });
    this.child = child;
    // A test process that dies (a timeout, an uncaught error) must not leave nodes running behind it.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.output += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.record(line);
    });
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        fail(`exited with ${code ?? signal} while starting`);
      const onData = () => {
        if (!this.output.includes(`Berth is listening on ${this.base}`)) return;
        done();
        resolve();
      };
      const done = () => {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stdout.off('data', onData);
      };
      const fail = (why: string) => {
        done();
        child.kill('SIGKILL');
        reject(new Error(`node ${this.name} ${why}\n--- output ---\n${this.output.slice(-4000)}`));
      };
      const timer = setTimeout(() => fail('did not start within 30 s'), 30_000);
      child.once('exit', onExit);
      child.stdout.on('data', onData);
    });
  }

  /** SIGKILL: the process gets no chance to finish anything (a crash, an OOM kill, a lost machine). */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  /** SIGTERM and wait; SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  private record(line: string): void {
    if (!line.startsWith('{')) return;
    const entry = JSON.parse(line) as { msg?: string; method?: string; path?: string; status?: number };
    if (entry.msg === 'request') {
      this.requests.push({
        node: this.name,
        method: entry.method ?? '',
        path: entry.path ?? '',
        status: entry.status ?? 0,
      });
    }
  }
}

export interface Cluster {
  nodes: ClusterNode[];
  database: TestDatabase;
  /** A client for the bucket, to look at what the nodes stored. */
  s3: S3Client;
  bucket: string;
  /** Every request the nodes logged, in the order their log lines arrived. */
  requests: LoggedRequest[];
  /** `Basic ...` of `admin` when the cluster runs with authentication and a known admin password. */
  authorization?: string;
  /** Stops every node, then removes the bucket, the database and the config files. Fails on any 5xx. */
  dispose(): Promise<void>;
}

/** Reserves `count` distinct free loopback ports (all held open at once, so none is handed out twice). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export interface ClusterOptions {
  /** Number of nodes (default 3). */
  size?: number;
  /**
   * The `auth` section of every node (default `{ enabled: false }`: the suites push anonymously). With
   * `adminPassword` set, the cluster's `authorization` is admin's Basic header, which `verifyCluster` uses.
   */
  auth?: { enabled: boolean; adminPassword?: string } & Record<string, unknown>;
  /** Merged into every node's configuration, section by section (e.g. `{ lifecycle: { gcGraceSeconds: 0 } }`). */
  config?: Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `base` with `extra` merged in: nested mappings key by key, anything else replaced. */
function merged(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? merged(current, value) : value;
  }
  return out;
}

/** Starts nodes (named a, b, c, ...) on a fresh database and a fresh bucket, all at once. */
export async function startCluster(sizeOrOptions: number | ClusterOptions = 3): Promise<Cluster> {
  const options: ClusterOptions = typeof sizeOrOptions === 'number' ? { size: sizeOrOptions } : sizeOrOptions;
  const size = options.size ?? 3;
  const auth = options.auth ?? { enabled: false };
  const missing = s3Variables.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} not set: the cluster tests need an S3 server. Run them with ` +
        `node scripts/run-tests.js cluster (it starts ../shared/services/s3-server.sh), or export the ` +
        `variables of a running one.`,
    );
  }
  const s3Options = {
    endpoint: process.env.S3_ENDPOINT!,
    region: process.env.S3_REGION!,
    accessKeyId: process.env.S3_ACCESS_KEY!,
    secretAccessKey: process.env.S3_SECRET_KEY!,
    forcePathStyle: true,
  };
  const bucket = `berth-cluster-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const s3 = createS3Client({ bucket, ...s3Options });
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
  };
  try {
    cleanups.push(() => Promise.resolve(s3.destroy()));
    const database = await createDatabase().catch((error: Error) => {
      throw new Error(`the cluster tests need PostgreSQL: ${error.message}`);
    });
    cleanups.push(() => database.drop());
    cleanups.push(await freshBucket(s3, bucket));
    const dir = await mkdtemp(join(tmpdir(), 'berth-cluster-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));

    const requests: LoggedRequest[] = [];
    const ports = await freePorts(size);
    const nodes: ClusterNode[] = [];
    for (const [index, port] of ports.entries()) {
      const name = String.fromCharCode(97 + index);
      const data = join(dir, `data-${name}`); // only the generated admin password lands here
      const config = merged(
        {
          server: { host: '127.0.0.1', port, shutdownGraceMs: 2000 },
          data,
          storage: { driver: 's3', bucket, prefix: bucketPrefix, ...s3Options },
          metadata: { driver: 'postgres', url: database.url },
          log: { level: 'info' },
          auth,
        },
        options.config ?? {},
      );
      const file = join(dir, `berth-${name}.yaml`);
      await writeFile(file, stringify(config));
      nodes.push(new ClusterNode(name, port, file, requests, data));
    }
    cleanups.push(() => Promise.all(nodes.map((node) => node.stop())));
    // Together: the first to take the migration lock migrates, the others wait for it.
    await Promise.all(nodes.map((node) => node.start()));

    return {
      nodes,
      database,
      s3,
      bucket,
      requests,
      ...(auth.enabled &&
        auth.adminPassword !== undefined && {
          authorization: `Basic ${Buffer.from(`admin:${auth.adminPassword}`).toString('base64')}`,
        }),
      dispose: async () => {
        await cleanup();
        const failures = requests.filter((r) => r.status >= 500);
        if (failures.length > 0) {
          const lines = failures.map((r) => `node ${r.node}: ${r.method} ${r.path} -> ${r.status}`);
          throw new Error(`nodes answered ${failures.length} server error(s):\n${lines.join('\n')}`);
        }
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
