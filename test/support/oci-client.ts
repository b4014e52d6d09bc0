// A small OCI distribution client for the integration tests: just enough HTTP to push and pull blobs and
// manifests, plus assertions shared by every test file. It speaks only through fetch and node:http, as a
// real client would, and never reaches into Berth's internals.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export const ociManifestType = 'application/vnd.oci.image.manifest.v1+json';
export const ociIndexType = 'application/vnd.oci.image.index.v1+json';
export const ociEmptyType = 'application/vnd.oci.empty.v1+json';
export const ociLayerType = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const ociConfigType = 'application/vnd.oci.image.config.v1+json';

/** The empty JSON blob `{}` of image-spec v1.1, and its well-known digest. */
export const emptyJson = Buffer.from('{}');
export const emptyJsonDigest = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

/** Every error code the distribution spec defines; a body's code must be one of these. */
export const specErrorCodes = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
  // Docker Registry v2 codes that the spec tables list as well.
  'TAG_INVALID',
  'RANGE_INVALID',
  'PAGINATION_NUMBER_INVALID',
  'UNAVAILABLE',
  'UNKNOWN',
];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
  urls?: string[];
  data?: string;
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function randomBlob(size: number): Buffer {
  return randomBytes(size);
}

/** A unique, valid repository name so that tests sharing one Berth never collide. */
export function uniqueName(prefix = 'test'): string {
  return `${prefix}/${randomBytes(5).toString('hex')}`;
}

export function descriptorOf(mediaType: string, bytes: Buffer, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.length, ...extra };
}

/** Adds query parameters to an upload `Location`, keeping the ones it already has. */
export function withQuery(base: string, location: string, params: Record<string, string>): string {
  const url = new URL(location, base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

export function v2(base: string, path: string): string {
  return new URL(path, base).toString();
}

export type CallInit = Omit<RequestInit, 'body'> & { body?: Buffer | string };

/** fetch against Berth; `path` is absolute (`/v2/...`) or a full URL such as a `Location`. */
export function call(base: string, path: string, init: CallInit = {}): Promise<Response> {
  const { body, ...rest } = init;
  const payload: BodyInit | undefined =
    typeof body === 'string' || body === undefined ? body : new Uint8Array(body);
  return fetch(new URL(path, base), {
    redirect: 'manual',
    ...rest,
    ...(payload !== undefined && { body: payload }),
  });
}

export interface ImageManifestInput {
  config?: Descriptor;
  layers?: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
  mediaType?: string | null;
}

export function imageManifest(input: ImageManifestInput): Buffer {
  const body: Record<string, unknown> = { schemaVersion: 2 };
  if (input.mediaType !== null) body.mediaType = input.mediaType ?? ociManifestType;
  if (input.artifactType !== undefined) body.artifactType = input.artifactType;
  body.config = input.config ?? descriptorOf(ociEmptyType, emptyJson);
  body.layers = input.layers ?? [];
  if (input.subject !== undefined) body.subject = input.subject;
  if (input.annotations !== undefined) body.annotations = input.annotations;
  return Buffer.from(JSON.stringify(body, null, 2));
}

export function imageIndex(
  manifests: Descriptor[],
  extra: { subject?: Descriptor; artifactType?: string; annotations?: Record<string, string> } = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: ociIndexType, ...extra, manifests }, null, '\t'),
  );
}

/** Opens an upload session (POST) and returns its absolute Location. */
export async function startUpload(base: string, name: string): Promise<string> {
  const res = await call(base, `/v2/${name}/blobs/uploads/`, { method: 'POST' });
  assert.equal(res.status, 202, `POST uploads for ${name}`);
  const location = res.headers.get('location');
  assert.ok(location, 'upload Location header');
  await res.arrayBuffer();
  return new URL(location, base).toString();
}

/** Pushes a blob with POST + monolithic PUT and returns its digest. */
export async function pushBlob(base: string, name: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const location = await startUpload(base, name);
  const res = await call(base, withQuery(base, location, { digest }), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: bytes,
  });
  assert.equal(res.status, 201, `PUT blob ${digest} to ${name}: ${await res.text()}`);
  assert.equal(res.headers.get('docker-content-digest'), digest);
  return digest;
}

/** PUTs a manifest and returns the response (body consumed) with its computed digest. */
export async function putManifest(
  base: string,
  name: string,
  reference: string,
  bytes: Buffer,
  contentType: string = ociManifestType,
): Promise<{ res: Response; digest: string; body: string }> {
  const res = await call(base, `/v2/${name}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'Content-Type': contentType },
    body: bytes,
  });
  return { res, digest: sha256(bytes), body: await res.text() };
}

/** Pushes a manifest and requires 201; returns its digest. */
export async function pushManifest(
  base: string,
  name: string,
  reference: string,
  bytes: Buffer,
  contentType?: string,
): Promise<string> {
  const { res, digest, body } = await putManifest(base, name, reference, bytes, contentType);
  assert.equal(res.status, 201, `PUT manifest ${reference} to ${name}: ${body}`);
  assert.equal(res.headers.get('docker-content-digest'), digest);
  return digest;
}

export interface PushedImage {
  config: Buffer;
  layer: Buffer;
  manifest: Buffer;
  digest: string;
  descriptor: Descriptor;
}

/** Pushes a config, one layer and an image manifest under `tag` (or by digest when tag is undefined). */
export async function pushImage(
  base: string,
  name: string,
  tag?: string,
  extra: Partial<ImageManifestInput> = {},
): Promise<PushedImage> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
      nonce: randomBytes(8).toString('hex'),
    }),
  );
  const layer = randomBlob(512);
  await pushBlob(base, name, config);
  await pushBlob(base, name, layer);
  const manifest = imageManifest({
    config: descriptorOf(ociConfigType, config),
    layers: [descriptorOf(ociLayerType, layer)],
    ...extra,
  });
  const digest = await pushManifest(base, name, tag ?? sha256(manifest), manifest);
  return { config, layer, manifest, digest, descriptor: descriptorOf(ociManifestType, manifest) };
}

export interface OciErrorBody {
  errors: { code: string; message: string; detail?: unknown }[];
}

/**
 * Asserts a distribution-spec error: the status, a JSON body `{"errors":[{code,message,detail?}]}` whose
 * first code is a spec code (and `code` when given), and the API version header. Consumes the body.
 */
export async function assertOciError(res: Response, status: number, code?: string): Promise<OciErrorBody> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text}`);
  return checkErrorBody(
    res.headers.get('content-type'),
    text,
    code,
    res.headers.get('docker-distribution-api-version'),
  );
}

export function checkErrorBody(
  contentType: string | null | undefined,
  text: string,
  code?: string,
  apiVersion?: string | null,
): OciErrorBody {
  assert.equal(apiVersion, 'registry/2.0', 'Docker-Distribution-API-Version on an error');
  assert.match(contentType ?? '', /^application\/json\b/, 'error Content-Type');
  const body = JSON.parse(text) as OciErrorBody;
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `errors array in ${text}`);
  for (const error of body.errors) {
    assert.ok(specErrorCodes.includes(error.code), `spec error code, got ${error.code}`);
    assert.equal(typeof error.message, 'string');
    assert.deepEqual(
      Object.keys(error).filter((k) => !['code', 'message', 'detail'].includes(k)),
      [],
    );
  }
  if (code !== undefined) assert.equal(body.errors[0]!.code, code, text);
  return body;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One request over node:http with the path sent exactly as given (fetch would normalise `..` and `%2e`).
 */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { ...headers, ...(body && { 'Content-Length': String(body.length) }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads the tags of a repository (all pages of 10 000 at most). */
export async function listTags(
  base: string,
  name: string,
  query = '',
): Promise<{ res: Response; tags: string[] }> {
  const res = await call(base, `/v2/${name}/tags/list${query}`);
  const body = (await res.json()) as { name: string; tags: string[] };
  return { res, tags: body.tags };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
