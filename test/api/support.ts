// Shared helpers for the management API tests: a Berth with authentication on, a small JSON client that
// speaks Basic (or a session cookie), and pushes through /v2 with Basic credentials.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { startTestBerth, type TestBerth } from '../support/berth.js';

/** The bootstrap admin's password (BERTH_TEST_ADMIN_PASSWORD overrides). */
export const adminPassword = process.env.BERTH_TEST_ADMIN_PASSWORD ?? 'Admin12345';

export function startApiBerth(): Promise<TestBerth> {
  return startTestBerth({ auth: { enabled: true, adminPassword } });
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export interface ApiResult {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** A JSON client for `/api/v2.0`; `authorization` is sent on every call when set. */
export class Api {
  constructor(
    readonly base: string,
    readonly authorization?: string,
    readonly extraHeaders: Record<string, string> = {},
  ) {}

  static as(base: string, username: string, password: string): Api {
    return new Api(base, basic(username, password));
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResult> {
    const url = path.startsWith('/api/') || path.startsWith('/c/') ? path : `/api/v2.0${path}`;
    const res = await fetch(new URL(url, this.base), {
      method,
      redirect: 'manual',
      headers: {
        ...(this.authorization !== undefined && { authorization: this.authorization }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...this.extraHeaders,
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').startsWith('application/json') && text !== '')
      parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.call('GET', path, undefined, headers);
  }
  post(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.call('POST', path, body, headers);
  }
  put(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.call('PUT', path, body, headers);
  }
  patch(path: string, body?: unknown) {
    return this.call('PATCH', path, body);
  }
  delete(path: string) {
    return this.call('DELETE', path);
  }
}

/** Requires a status, printing the body when it differs. */
export function expectStatus(result: ApiResult, status: number, what = ''): ApiResult {
  assert.equal(result.status, status, `${what} -> ${result.status} ${result.text.slice(0, 500)}`);
  return result;
}

/** Requires Harbor's error shape: `{"errors":[{"code","message"}]}` with the given status and code. */
export function expectHarborError(result: ApiResult, status: number, code: string): void {
  expectStatus(result, status);
  assert.match(result.headers.get('content-type') ?? '', /^application\/json/);
  const body = result.body as { errors?: { code?: unknown; message?: unknown }[] };
  assert.ok(Array.isArray(body.errors) && body.errors.length === 1, `errors array in ${result.text}`);
  assert.equal(body.errors[0]!.code, code);
  assert.equal(typeof body.errors[0]!.message, 'string');
}

/** Creates a user as `admin` and returns its id. */
export async function createUser(admin: Api, username: string, password: string): Promise<number> {
  const res = expectStatus(
    await admin.post('/users', { username, password, email: `${username}@example.com`, realname: username }),
    201,
    `create user ${username}`,
  );
  const id = Number(/\/users\/(\d+)$/.exec(res.headers.get('location') ?? '')?.[1]);
  assert.ok(id > 0, 'Location names the new user');
  return id;
}

export async function createProject(client: Api, name: string, isPublic = false): Promise<number> {
  const res = expectStatus(
    await client.post('/projects', { project_name: name, metadata: { public: String(isPublic) } }),
    201,
    `create project ${name}`,
  );
  return Number(/\/projects\/(\d+)$/.exec(res.headers.get('location') ?? '')?.[1]);
}

export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

// ---------------------------------------------------------------- pushes through /v2 with Basic

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export async function pushBlob(
  base: string,
  authorization: string,
  name: string,
  bytes: Buffer,
): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(new URL(`/v2/${name}/blobs/uploads/`, base), {
    method: 'POST',
    headers: { authorization },
  });
  assert.equal(start.status, 202, `POST upload to ${name}: ${await start.text()}`);
  const location = new URL(start.headers.get('location')!, base);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { authorization, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(bytes),
  });
  assert.equal(put.status, 201, `PUT blob to ${name}: ${await put.text()}`);
  return digest;
}

export async function pushManifest(
  base: string,
  authorization: string,
  name: string,
  reference: string,
  manifest: Buffer,
  mediaType: string,
): Promise<string> {
  const res = await fetch(new URL(`/v2/${name}/manifests/${reference}`, base), {
    method: 'PUT',
    headers: { authorization, 'content-type': mediaType },
    body: new Uint8Array(manifest),
  });
  assert.equal(res.status, 201, `PUT manifest ${name}:${reference}: ${await res.text()}`);
  return sha256(manifest);
}

export const ociManifest = 'application/vnd.oci.image.manifest.v1+json';
export const ociIndex = 'application/vnd.oci.image.index.v1+json';

export interface Pushed {
  digest: string;
  size: number;
  manifest: Buffer;
}

/** An image (config with architecture/os/created/author, one layer) under `tag` (or by digest). */
export async function pushImage(
  base: string,
  authorization: string,
  name: string,
  tag: string | undefined,
  platform: { architecture: string; os: string } = { architecture: 'amd64', os: 'linux' },
): Promise<Pushed> {
  const config = Buffer.from(
    JSON.stringify({
      ...platform,
      created: '2024-05-01T10:00:00Z',
      author: 'berth tests',
      config: { Env: ['PATH=/usr/bin'] },
      rootfs: { type: 'layers', diff_ids: [] },
      nonce: randomBytes(6).toString('hex'),
    }),
  );
  const layer = randomBytes(300);
  const configDigest = await pushBlob(base, authorization, name, config);
  const layerDigest = await pushBlob(base, authorization, name, layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: ociManifest,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length },
      ],
    }),
  );
  const digest = await pushManifest(
    base,
    authorization,
    name,
    tag ?? sha256(manifest),
    manifest,
    ociManifest,
  );
  return { digest, size: manifest.length + config.length + layer.length, manifest };
}

/** A two-platform index under `tag`; the platform images are pushed by digest only. */
export async function pushIndex(
  base: string,
  authorization: string,
  name: string,
  tag: string,
): Promise<{ index: Pushed; children: Pushed[] }> {
  const platforms = [
    { architecture: 'amd64', os: 'linux' },
    { architecture: 'arm64', os: 'linux' },
  ];
  const children: Pushed[] = [];
  for (const platform of platforms)
    children.push(await pushImage(base, authorization, name, undefined, platform));
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: ociIndex,
      manifests: children.map((child, i) => ({
        mediaType: ociManifest,
        digest: child.digest,
        size: child.manifest.length,
        platform: platforms[i],
      })),
    }),
  );
  const digest = await pushManifest(base, authorization, name, tag, index, ociIndex);
  return {
    index: { digest, size: index.length + children.reduce((n, c) => n + c.size, 0), manifest: index },
    children,
  };
}

/** A one-file ustar archive (enough for a chart: `<name>/Chart.yaml`). */
function tarOf(path: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, value: string) => header.write(value, offset, 'ascii');
  field(0, path);
  field(100, '0000644\0');
  field(108, '0000000\0');
  field(116, '0000000\0');
  field(124, `${content.length.toString(8).padStart(11, '0')}\0`);
  field(
    136,
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
  );
  field(148, '        ');
  field(156, '0');
  field(257, 'ustar\0');
  field(263, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padded = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  content.copy(padded);
  return Buffer.concat([header, padded, Buffer.alloc(1024)]);
}

/** A Helm chart as `helm push` stores it: the chart metadata as config, the .tgz as the one layer. */
export async function pushChart(
  base: string,
  authorization: string,
  name: string,
  version: string,
): Promise<string> {
  const chartName = name.split('/').pop()!;
  const metadata = {
    name: chartName,
    version,
    apiVersion: 'v2',
    appVersion: '1.2.3',
    description: 'a chart',
    type: 'application',
  };
  const chartYaml = Object.entries(metadata)
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
    .join('\n');
  const config = Buffer.from(JSON.stringify(metadata));
  const archive = gzipSync(tarOf(`${chartName}/Chart.yaml`, Buffer.from(`${chartYaml}\n`)));
  const configDigest = await pushBlob(base, authorization, name, config);
  const archiveDigest = await pushBlob(base, authorization, name, archive);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      config: {
        mediaType: 'application/vnd.cncf.helm.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
          digest: archiveDigest,
          size: archive.length,
        },
      ],
    }),
  );
  return pushManifest(base, authorization, name, version, manifest, ociManifest);
}
