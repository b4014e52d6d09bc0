import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { staticServerMain } from './paths.js';
import { processCpuSeconds } from './proc-stats.js';
import { RegistryClient } from './registry-client.js';
import { freePort } from './servers.js';
import { MB, median } from './stats.js';

export interface OpensslCeiling {
  /** `openssl speed -evp sha256`, 16384-byte column, in MB/s (openssl's 1000s of bytes / 1000). */
  sha256MBps: number;
  command: string;
}

/** One core's SHA-256 rate: the most a registry that checks every pushed digest can take in per core. */
export async function opensslSha256(seconds: number): Promise<OpensslCeiling> {
  const args = ['speed', '-seconds', String(seconds), '-evp', 'sha256'];
  const { stdout } = await promisify(execFile)('openssl', args, { encoding: 'utf8' });
  return { sha256MBps: parseOpensslSpeed(stdout, 16384), command: `openssl ${args.join(' ')}` };
}

/** Reads the `<bytes> bytes` column of the sha256 row of `openssl speed` output, in MB/s. */
export function parseOpensslSpeed(output: string, blockBytes: number): number {
  const lines = output.split('\n');
  const header = lines.find((line) => /^type\s/.test(line));
  const row = lines.find((line) => /^sha-?256\s/i.test(line.trim()));
  if (header === undefined || row === undefined)
    throw new Error(`unexpected openssl speed output:\n${output}`);
  const columns = [...header.matchAll(/(\d+) bytes/g)].map((m) => Number(m[1]));
  const values = [...row.matchAll(/([\d.]+)k/g)].map((m) => Number(m[1]));
  const index = columns.indexOf(blockBytes);
  if (index < 0 || values[index] === undefined)
    throw new Error(`no ${blockBytes}-byte column in openssl speed output:\n${output}`);
  return values[index] / 1000;
}

export interface StaticCeiling {
  /** Median MB/s of single-client verified pulls of the 64 MiB file from a plain node:http server. */
  pullMBps: number;
  samplesMBps: number[];
  /** The static server's own CPU per MB served, to compare with the registries' CPU ms/MB. */
  serverCpuMsPerMB: number;
  /** Medians of the measurements before and after the scenarios; `pullMBps` is the better one. */
  runsMBps?: number[];
  /** Median MB/s of single-client 64 MiB PUTs, same client, to a server that reads and drops the body. */
  sinkPushMBps: number;
  /** The same to a server that only computes the body's SHA-256: the most any verifying registry can take. */
  hashingSinkPushMBps: number;
}

/** Loopback ceiling for the pull path: the same client, hashing as it reads, against a static file server. */
export async function staticFileCeiling(bytes: Buffer, pulls: number): Promise<StaticCeiling> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-static-'));
  const file = join(dir, 'blob');
  await writeFile(file, bytes);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const port = await freePort();
  const child = spawn(process.execPath, [staticServerMain, file, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const client = new RegistryClient(`http://127.0.0.1:${port}`, 1);
  try {
    await new Promise<void>((ready, failed) => {
      child.stdout.once('data', () => ready());
      child.once('exit', (code) => failed(new Error(`static server exited with ${code}`)));
    });
    await client.pullVerified('/blob', digest, bytes.length);
    const samples: number[] = [];
    const cpuBefore = processCpuSeconds(child.pid!);
    for (let i = 0; i < pulls; i++) {
      const started = performance.now();
      await client.pullVerified('/blob', digest, bytes.length);
      samples.push(bytes.length / MB / ((performance.now() - started) / 1000));
    }
    const serverCpuMsPerMB =
      ((processCpuSeconds(child.pid!) - cpuBefore) * 1000) / ((pulls * bytes.length) / MB);
    const sinkPushMBps = await sinkPushes(client, '/sink', bytes, pulls);
    const hashingSinkPushMBps = await sinkPushes(client, '/sink?hash', bytes, pulls, digest);
    return {
      pullMBps: median(samples),
      samplesMBps: samples,
      serverCpuMsPerMB,
      sinkPushMBps,
      hashingSinkPushMBps,
    };
  } finally {
    await client.close();
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

/** Median MB/s of `pushes` single-client PUTs of `bytes` to the static server's upload sink at `path`. */
async function sinkPushes(
  client: RegistryClient,
  path: string,
  bytes: Buffer,
  pushes: number,
  digest?: string,
): Promise<number> {
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) };
  const samples: number[] = [];
  for (let i = 0; i <= pushes; i++) {
    const started = performance.now();
    const reply = await client.sendBlob('PUT', path, [201], headers, [bytes]);
    const seconds = (performance.now() - started) / 1000;
    if (digest !== undefined && reply.headers['docker-content-digest'] !== digest)
      throw new Error(
        `hashing sink answered ${String(reply.headers['docker-content-digest'])}, expected ${digest}`,
      );
    if (i > 0) samples.push(bytes.length / MB / seconds); // the first warms the connection up
  }
  return median(samples);
}
