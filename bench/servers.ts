import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berthLogLevel, berthMain, distributionBin } from './paths.js';

export type ServerName = 'berth' | 'distribution';
export const serverNames: readonly ServerName[] = ['berth', 'distribution'];
export const serverLabels: Record<ServerName, string> = { berth: 'Berth', distribution: 'Distribution' };

/** A registry running as a child process on loopback, with its own fresh data folder. */
export interface RunningServer {
  name: ServerName;
  origin: string;
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A free loopback port (bound, then released: the server binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, rejectPort) => {
    const probe = createServer();
    probe.once('error', rejectPort);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address !== null
          ? resolvePort(address.port)
          : rejectPort(new Error('no port')),
      );
    });
  });
}

/** How to start one Berth beyond the defaults: a configuration file and environment overrides. */
export interface BerthLaunch {
  /** A YAML file passed with `--config` (the caller owns it); the embedded backends when absent. */
  configFile?: string;
  /** Added to the environment after the bench's own `BERTH_*` settings, so these win (BERTH_METADATA_URL, ...). */
  env?: Record<string, string>;
}

/**
 * Berth from the production build, logging at `berthLogLevel` so request lines do not dominate. Without a
 * launch it runs on its embedded backends (filesystem + SQLite) in a fresh temp data folder; with a
 * `configFile` (S3, PostgreSQL, ...) that file configures the backends, and `--port`/`--data` still come
 * from here.
 */
export async function startBerth(launch: BerthLaunch = {}): Promise<RunningServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-berth-'));
  const port = await freePort();
  const args = [berthMain, 'serve', '--port', String(port), '--data', dataDir];
  if (launch.configFile !== undefined) args.push('--config', launch.configFile);
  const child = spawn(process.execPath, args, {
    // Distribution runs without authentication here, so Berth does too: the comparison is of the
    // registries, not of their auth layers.
    env: {
      ...process.env,
      BERTH_LOG_LEVEL: berthLogLevel,
      BERTH_HOST: '127.0.0.1',
      BERTH_AUTH_ENABLED: 'false',
      ...launch.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return started('berth', child, `http://127.0.0.1:${port}`, dataDir);
}

/** CNCF Distribution with a generated config: filesystem storage, deletes enabled, warn logs, no access log. */
export async function startDistribution(): Promise<RunningServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-distribution-'));
  const port = await freePort();
  const config = join(dataDir, 'config.yml');
  await writeFile(config, distributionConfig(join(dataDir, 'storage'), port));
  const child = spawn(distributionBin, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  return started('distribution', child, `http://127.0.0.1:${port}`, dataDir);
}

/** Debian's packaged defaults (inmemory blob descriptor cache) minus auth, on loopback. */
export function distributionConfig(root: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${root}`,
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
    '',
  ].join('\n');
}

export function distributionVersion(): string {
  try {
    return execFileSync(distributionBin, ['--version'], { encoding: 'utf8' }).trim();
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  }
}

async function started(
  name: ServerName,
  child: ChildProcess,
  origin: string,
  dataDir: string,
): Promise<RunningServer> {
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let alive = true;
  void exited.then(() => {
    alive = false;
    running.delete(child);
  });
  const stop = async () => {
    if (alive) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitReady(origin, () => alive, 20_000);
  } catch (error) {
    await stop();
    throw new Error(`${name} did not start: ${(error as Error).message}\n${output}`, { cause: error });
  }
  return { name, origin, pid: child.pid!, dataDir, stop };
}

async function waitReady(origin: string, alive: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error('process exited');
    try {
      const response = await fetch(`${origin}/v2/`);
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`no answer from ${origin}/v2/ within ${timeoutMs} ms`);
}
