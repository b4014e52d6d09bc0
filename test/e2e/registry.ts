// The Berth side of the end-to-end tests: a test Berth whose requests are recorded, a client sandbox
// pointed at it, and plain-HTTP checks of what Berth serves.
import { Writable } from 'node:stream';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import { createLogger } from '../../src/server/logger.js';
import { createSandbox, type Sandbox } from '../support/clients.js';

/** One `/v2` request as Berth saw it: the full URL (with query), and the status it answered. */
export interface RecordedRequest {
  method: string;
  url: URL;
  status: number;
}

/** A line of Berth's own request log (pino JSON). */
export interface RequestLogLine {
  msg: string;
  method?: string;
  path?: string;
  status?: number;
}

export interface E2E {
  berth: TestBerth;
  sandbox: Sandbox;
  /** `127.0.0.1:PORT`: the registry host in client references. */
  registry: string;
  /** Every request so far, in completion order. */
  requests: RecordedRequest[];
  /** Berth's request log lines so far (level info, captured from its pino logger). */
  log: RequestLogLine[];
  /** `docker://127.0.0.1:PORT/<repository>` plus `:tag` or `@digest`. */
  docker(reference: string): string;
  dispose(): Promise<void>;
}

/** Starts Berth with its request log captured, and a client sandbox for it. */
export async function startE2E(): Promise<E2E> {
  const log: RequestLogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') log.push(JSON.parse(line) as RequestLogLine);
      }
      done();
    },
  });
  const berth = await startTestBerth({}, { logger: createLogger('info', destination) });
  // The request log has the path only; the query (`mount=`, `from=`, `digest=`) is recorded here.
  const requests: RecordedRequest[] = [];
  berth.server.prependListener('request', (req, res) => {
    const url = new URL(req.url ?? '/', berth.base);
    res.once('finish', () => requests.push({ method: req.method ?? '', url, status: res.statusCode }));
  });
  const registry = `127.0.0.1:${berth.port}`;
  let sandbox: Sandbox;
  try {
    sandbox = await createSandbox(registry);
  } catch (error) {
    await berth.dispose();
    throw error;
  }
  return {
    berth,
    sandbox,
    registry,
    requests,
    log,
    docker: (reference) => `docker://${registry}/${reference}`,
    // A client can retry past a server error and still succeed: the suite fails on any 5xx all the same.
    dispose: async () => {
      await sandbox.dispose();
      await berth.dispose();
      const failures = requests.filter((r) => r.status >= 500);
      if (failures.length > 0) {
        const lines = failures.map((r) => `${r.method} ${r.url.pathname}${r.url.search} -> ${r.status}`);
        throw new Error(
          `Berth answered ${failures.length} request(s) with a server error:\n${lines.join('\n')}`,
        );
      }
    },
  };
}

export const mediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

/** Every manifest type, as a client's Accept header lists them. */
export const acceptAll = Object.values(mediaTypes).join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface ManifestBody {
  schemaVersion: number;
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

export interface FetchedManifest {
  status: number;
  contentType: string | null;
  digest: string | null;
  body?: ManifestBody;
}

/** GET (or HEAD) `/v2/<repository>/manifests/<reference>` the way a client does. */
export async function fetchManifest(
  base: string,
  repository: string,
  reference: string,
  method: 'GET' | 'HEAD' = 'GET',
): Promise<FetchedManifest> {
  const response = await fetch(`${base}/v2/${repository}/manifests/${reference}`, {
    method,
    headers: { Accept: acceptAll },
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    digest: response.headers.get('docker-content-digest'),
    ...(method === 'GET' && response.ok && { body: JSON.parse(text) as ManifestBody }),
  };
}

/** GET `/v2/<repository>/tags/list`: the status and the tags (empty when the answer has none). */
export async function fetchTags(
  base: string,
  repository: string,
): Promise<{ status: number; tags: string[] }> {
  const response = await fetch(`${base}/v2/${repository}/tags/list`);
  const body = (await response.json()) as { tags?: string[] | null };
  return { status: response.status, tags: body.tags ?? [] };
}

/** HEAD `/v2/<repository>/blobs/<digest>`: the status and the size Berth reports. */
export async function headBlob(
  base: string,
  repository: string,
  digest: string,
): Promise<{ status: number; size: number }> {
  const response = await fetch(`${base}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
  return { status: response.status, size: Number(response.headers.get('content-length')) };
}
