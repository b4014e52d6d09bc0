// Chart archives built in the tests with tar-stream and zlib (good ones and hostile ones), chart folders
// on disk for `berth chart package`, and small HTTP helpers for the chart repository edges.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar, { type Header } from 'tar-stream';
import { RegistryClient } from '../../src/cli/registry-client.js';
import type { TestBerth } from '../support/berth.js';

export interface TarEntry {
  header: Partial<Header> & { name: string };
  body?: Buffer | string;
}

/** A gzip-compressed tar of the given entries, in order. */
export async function tgz(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    if (entry.body === undefined) pack.entry(entry.header);
    else pack.entry(entry.header, entry.body);
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

export function chartYaml(name: string, version: string, extra = ''): string {
  return `apiVersion: v2\nname: ${name}\nversion: ${version}\ndescription: The ${name} chart\ntype: application\nappVersion: "1.0"\n${extra}`;
}

/** A valid chart archive laid out as Helm lays it out. */
export function chartArchive(name: string, version: string, extra = ''): Promise<Buffer> {
  return tgz([
    { header: { name: `${name}/Chart.yaml` }, body: chartYaml(name, version, extra) },
    { header: { name: `${name}/values.yaml` }, body: 'replicas: 1\n' },
    { header: { name: `${name}/templates/deployment.yaml` }, body: 'kind: Deployment\n' },
  ]);
}

/** A clear-signed provenance file body for a chart (the signature is not checked by Berth). */
export function provenanceFor(name: string, version: string, archive: Buffer): Buffer {
  return Buffer.from(
    `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\napiVersion: v2\nname: ${name}\nversion: ${version}\n\n...\nfiles:\n  ${name}-${version}.tgz: sha256:${hex(archive)}\n-----BEGIN PGP SIGNATURE-----\n\nwsBcBAEBCgAQBQJfake\n-----END PGP SIGNATURE-----\n`,
  );
}

export function hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${hex(bytes)}`;
}

/** Writes a chart folder: a map of relative path to content. */
export async function chartDir(files: Record<string, string | Buffer>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-chart-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

/** A CLI registry client for a test Berth (credentials optional). */
export function clientOf(
  berth: TestBerth,
  credentials?: { username: string; password: string },
): RegistryClient {
  return new RegistryClient({ base: berth.base, ...(credentials !== undefined && { credentials }) });
}

export async function uploadChart(
  berth: TestBerth,
  project: string,
  archive: Buffer,
  query = '',
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${berth.base}/api/chartrepo/${project}/charts${query}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', ...headers },
    body: new Uint8Array(archive),
  });
}

export async function uploadForm(
  berth: TestBerth,
  project: string,
  parts: { chart?: Buffer; prov?: Buffer },
  query = '',
): Promise<Response> {
  const form = new FormData();
  if (parts.chart !== undefined) form.append('chart', new Blob([new Uint8Array(parts.chart)]), 'chart.tgz');
  if (parts.prov !== undefined) form.append('prov', new Blob([new Uint8Array(parts.prov)]), 'chart.tgz.prov');
  return fetch(`${berth.base}/api/chartrepo/${project}/charts${query}`, { method: 'POST', body: form });
}

export async function getBytes(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const response = await fetch(url, { headers });
  return {
    status: response.status,
    bytes: Buffer.from(await response.arrayBuffer()),
    headers: response.headers,
  };
}

let counter = 0;
/** A project name unique within the test run. */
export function uniqueProject(prefix: string): string {
  counter += 1;
  return `${prefix}${process.pid}x${counter}`;
}
