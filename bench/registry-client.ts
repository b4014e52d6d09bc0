import { createHash } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { BlobContent } from './blob-data.js';
import { LeanPool } from './lean-http.js';
import { manifestAccept, ociManifestType } from './manifest-data.js';

type Body = Buffer | Readable | undefined;

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
}

/** A full listing (tags or catalog) walked through its `Link` headers. */
export interface Listing {
  items: number;
  pages: number;
}

/** Redirect statuses `pullVerified` follows (with a Location header). */
const redirects = new Set([301, 302, 303, 307, 308]);
const maxRedirects = 5;

/**
 * The OCI distribution calls the scenarios need, over one keep-alive undici Pool per origin. Given several
 * origins (the nodes of a cluster), it spreads requests round-robin over them, one request at a time, as a
 * load balancer without session affinity does: an upload may start on one node and end on another.
 * Large bodies (blob GETs, the PUT/PATCHes that carry blob bytes) go through a lean node:net client
 * (`LeanPool`, one per origin next to the undici Pool): it costs the load generator less than half the
 * CPU per MB of undici, so the client is not what limits the measured throughput.
 */
export class RegistryClient {
  /** The first origin (the only one for a single server). */
  readonly origin: string;
  readonly origins: readonly string[];
  private readonly pools: Pool[];
  /** The lean client per origin, same index as `pools`, for the large-body requests. */
  private readonly leanPools: LeanPool[];
  /** undici Pools for redirect targets on other origins (an S3 server answering presigned URLs). */
  private readonly redirectPools = new Map<string, Pool>();
  private readonly connections: number;
  private turn = 0;
  /**
   * HEAD goes through node:http: undici closes the connection after every HEAD (undici issue #258), which
   * would measure TCP setup instead of the registry. Real clients (Go's net/http) keep it alive.
   */
  private readonly headAgent: Agent;

  /** `connections` is per origin: each node may get every client at once. */
  constructor(origins: string | readonly string[], connections: number) {
    this.origins = typeof origins === 'string' ? [origins] : [...origins];
    if (this.origins.length === 0) throw new Error('RegistryClient needs at least one origin');
    this.origin = this.origins[0]!;
    this.connections = connections;
    this.pools = this.origins.map(
      (origin) =>
        new Pool(origin, {
          connections,
          pipelining: 1,
          keepAliveTimeout: 60_000,
          headersTimeout: 120_000,
          bodyTimeout: 120_000,
        }),
    );
    this.leanPools = this.origins.map((origin) => new LeanPool(origin, connections));
    this.headAgent = new Agent({ keepAlive: true, maxSockets: connections });
  }

  async close(): Promise<void> {
    this.headAgent.destroy();
    for (const lean of this.leanPools) lean.close();
    const redirectPools = [...this.redirectPools.values()];
    this.redirectPools.clear();
    await Promise.all([...this.pools, ...redirectPools].map((pool) => pool.close()));
  }

  /** The next origin in turn, for one request. */
  private next(): number {
    const index = this.turn;
    this.turn = (this.turn + 1) % this.origins.length;
    return index;
  }

  /** The pool of the next origin in turn. */
  private nextPool(): Pool {
    return this.pools[this.next()]!;
  }

  /** The undici Pool for `origin`: one of ours, or one opened for a redirect target. */
  private poolFor(origin: string): Pool {
    const index = this.origins.findIndex((o) => new URL(o).origin === origin);
    if (index >= 0) return this.pools[index]!;
    let pool = this.redirectPools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections: this.connections,
        pipelining: 1,
        keepAliveTimeout: 60_000,
        headersTimeout: 120_000,
        bodyTimeout: 120_000,
      });
      this.redirectPools.set(origin, pool);
    }
    return pool;
  }

  /**
   * Sends a request that carries blob bytes over the lean client of the next origin (the pieces are
   * written as they are, never copied), and checks the status. The reply body is small (empty or an error).
   */
  async sendBlob(
    method: string,
    path: string,
    expect: number[],
    headers: Record<string, string>,
    pieces: Buffer[],
  ): Promise<Reply> {
    const response = await this.leanPools[this.next()]!.request({ method, path, headers, body: pieces });
    if (!expect.includes(response.status)) {
      const text = response.body?.toString('utf8') ?? '';
      throw new Error(`${method} ${path.slice(0, 120)}: HTTP ${response.status} ${text.slice(0, 300)}`);
    }
    return { status: response.status, headers: response.headers };
  }

  /** HEAD over a keep-alive node:http agent. */
  head(path: string, expect: number[], headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolveHead, rejectHead) => {
      const req = httpRequest(
        `${this.origins[this.next()]!}${path}`,
        { method: 'HEAD', headers, agent: this.headAgent },
        (res) => {
          res.resume();
          res.once('end', () => {
            const status = res.statusCode ?? 0;
            if (expect.includes(status)) resolveHead({ status, headers: res.headers });
            else rejectHead(new Error(`HEAD ${path.slice(0, 120)}: HTTP ${status}`));
          });
        },
      );
      req.once('error', rejectHead);
      req.end();
    });
  }

  /** Sends a request, discards the body and checks the status. */
  async send(
    method: string,
    path: string,
    expect: number[],
    headers: Record<string, string> = {},
    body?: Body,
  ): Promise<Reply> {
    const response = await this.nextPool().request({ method, path, headers, body: body ?? null });
    if (!expect.includes(response.statusCode)) {
      const text = await response.body.text().catch(() => '');
      throw new Error(`${method} ${path.slice(0, 120)}: HTTP ${response.statusCode} ${text.slice(0, 300)}`);
    }
    await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
    return { status: response.statusCode, headers: response.headers };
  }

  /** Monolithic push: POST opens the session, one PUT carries the whole body and the digest. */
  async pushMonolithic(repository: string, blob: BlobContent): Promise<number> {
    const location = await this.startUpload(repository);
    await this.sendBlob(
      'PUT',
      withDigest(location, blob.digest),
      [201],
      octets(blob.size),
      blob.slice(0, blob.size),
    );
    return 2;
  }

  /** Chunked push: POST, one PATCH with Content-Range per chunk, then PUT with the digest and no body. */
  async pushChunked(repository: string, blob: BlobContent, chunkBytes: number): Promise<number> {
    let location = await this.startUpload(repository);
    let requests = 1;
    for (let start = 0; start < blob.size; start += chunkBytes) {
      const end = Math.min(blob.size, start + chunkBytes);
      const headers = { ...octets(end - start), 'content-range': `${start}-${end - 1}` };
      const reply = await this.sendBlob('PATCH', location, [202], headers, blob.slice(start, end));
      location = this.location(reply);
      requests++;
    }
    await this.send('PUT', withDigest(location, blob.digest), [201], { 'content-length': '0' });
    return requests + 1;
  }

  /** The way containers/image (skopeo, podman) uploads: POST, one streamed PATCH without Content-Range, PUT. */
  async pushStreamed(repository: string, blob: BlobContent): Promise<number> {
    const location = await this.startUpload(repository);
    const reply = await this.sendBlob('PATCH', location, [202], octets(blob.size), blob.slice(0, blob.size));
    await this.send('PUT', withDigest(this.location(reply), blob.digest), [201], { 'content-length': '0' });
    return 3;
  }

  /** Cross-repository mount; true when the registry linked the blob (201). */
  async mount(repository: string, digest: string, from: string): Promise<boolean> {
    const path = `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const reply = await this.send('POST', path, [201, 202], { 'content-length': '0' });
    return reply.status === 201;
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    return (await this.head(`/v2/${repository}/blobs/${digest}`, [200, 404])).status === 200;
  }

  /** GETs a blob and checks its size and SHA-256 as it streams in; returns the bytes received. */
  pullBlob(repository: string, digest: string, size: number): Promise<number> {
    return this.pullVerified(`/v2/${repository}/blobs/${digest}`, digest, size);
  }

  /**
   * GETs `path` over the lean client, hashing each chunk as it is read, and checks size and SHA-256.
   * A redirect (a presigned S3 URL, say) is followed through undici, verified the same way.
   */
  async pullVerified(path: string, digest: string, size: number): Promise<number> {
    const index = this.next();
    const hash = createHash('sha256');
    let received = 0;
    /** The first bytes, for the message when the status is not 200. */
    const start: Buffer[] = [];
    let startBytes = 0;
    const response = await this.leanPools[index]!.request({
      method: 'GET',
      path,
      onBody: (chunk) => {
        hash.update(chunk);
        received += chunk.length;
        if (startBytes < 1200) {
          const piece = Buffer.from(chunk.subarray(0, 1200 - startBytes)); // copy: the chunk is reused
          start.push(piece);
          startBytes += piece.length;
        }
      },
    });
    const location = response.headers.location;
    if (redirects.has(response.status) && location !== undefined)
      return this.pullRedirected(new URL(location, this.origins[index]), path, digest, size);
    if (response.status !== 200) {
      const text = Buffer.concat(start).toString('utf8');
      throw new Error(`GET ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (received !== size || actual !== digest)
      throw new Error(`GET ${path}: got ${received} bytes ${actual}, expected ${size} bytes ${digest}`);
    return received;
  }

  /** The undici path of `pullVerified`, for a redirect target (possibly on another origin). */
  private async pullRedirected(url: URL, path: string, digest: string, size: number): Promise<number> {
    for (let hop = 1; ; hop++) {
      const target = url.pathname + url.search;
      const response = await this.poolFor(url.origin).request({ method: 'GET', path: target });
      const location = response.headers.location;
      if (redirects.has(response.statusCode) && typeof location === 'string') {
        await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
        if (hop >= maxRedirects) throw new Error(`GET ${path}: more than ${maxRedirects} redirects`);
        url = new URL(location, url);
        continue;
      }
      if (response.statusCode !== 200) {
        const text = await response.body.text().catch(() => '');
        throw new Error(
          `GET ${path} (redirected to ${url.origin}): HTTP ${response.statusCode} ${text.slice(0, 300)}`,
        );
      }
      const hash = createHash('sha256');
      let received = 0;
      for await (const chunk of response.body) {
        hash.update(chunk as Buffer);
        received += (chunk as Buffer).length;
      }
      const actual = `sha256:${hash.digest('hex')}`;
      if (received !== size || actual !== digest)
        throw new Error(
          `GET ${path} (redirected to ${url.origin}): got ${received} bytes ${actual}, expected ${size} bytes ${digest}`,
        );
      return received;
    }
  }

  async putManifest(
    repository: string,
    reference: string,
    manifest: Buffer,
    extraTags: string[] = [],
  ): Promise<Reply> {
    const query =
      extraTags.length === 0 ? '' : `?${extraTags.map((tag) => `tag=${encodeURIComponent(tag)}`).join('&')}`;
    const headers = { 'content-type': ociManifestType, 'content-length': String(manifest.length) };
    return this.send('PUT', `/v2/${repository}/manifests/${reference}${query}`, [201], headers, manifest);
  }

  /** GET by tag or digest; checks the body against `expectedDigest`. Returns the bytes received. */
  async getManifest(repository: string, reference: string, expectedDigest: string): Promise<number> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const response = await this.nextPool().request({
      method: 'GET',
      path,
      headers: { accept: manifestAccept },
    });
    const body = Buffer.from(await response.body.arrayBuffer());
    if (response.statusCode !== 200)
      throw new Error(`GET ${path}: HTTP ${response.statusCode} ${body.toString('utf8', 0, 300)}`);
    const actual = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (actual !== expectedDigest)
      throw new Error(`GET ${path}: digest ${actual}, expected ${expectedDigest}`);
    return body.length;
  }

  /** HEAD by tag or digest; checks Docker-Content-Digest. */
  async headManifest(repository: string, reference: string, expectedDigest: string): Promise<void> {
    const reply = await this.head(`/v2/${repository}/manifests/${reference}`, [200], {
      accept: manifestAccept,
    });
    if (reply.headers['docker-content-digest'] !== expectedDigest) {
      throw new Error(`HEAD manifest ${reference}: digest ${String(reply.headers['docker-content-digest'])}`);
    }
  }

  /** Walks a listing from `path` through every `Link: <...>; rel="next"`, counting the entries of `key`. */
  async listAll(path: string, key: 'tags' | 'repositories'): Promise<Listing> {
    let next: string | undefined = path;
    let items = 0;
    let pages = 0;
    while (next !== undefined) {
      const response = await this.nextPool().request({ method: 'GET', path: next });
      const text = await response.body.text();
      if (response.statusCode !== 200)
        throw new Error(`GET ${next}: HTTP ${response.statusCode} ${text.slice(0, 300)}`);
      const page = JSON.parse(text) as Record<string, unknown>;
      const entries = page[key];
      items += Array.isArray(entries) ? entries.length : 0;
      pages++;
      next = nextLink(response.headers.link, this.origin);
    }
    return { items, pages };
  }

  private async startUpload(repository: string): Promise<string> {
    return this.location(
      await this.send('POST', `/v2/${repository}/blobs/uploads/`, [202], { 'content-length': '0' }),
    );
  }

  /** The upload URL to use next: Berth answers a path, Distribution an absolute URL with `_state`. */
  private location(reply: Reply): string {
    const location = reply.headers.location;
    if (typeof location !== 'string') throw new Error(`HTTP ${reply.status} without a Location header`);
    const url = new URL(location, this.origin);
    return url.pathname + url.search;
  }
}

function octets(length: number): Record<string, string> {
  return { 'content-type': 'application/octet-stream', 'content-length': String(length) };
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/** The path of a `rel="next"` link, resolved against the origin; undefined when there is none. */
export function nextLink(header: string | string[] | undefined, origin: string): string | undefined {
  const value = Array.isArray(header) ? header.join(', ') : header;
  const match = value === undefined ? null : /<([^>]+)>\s*;\s*rel="?next"?/.exec(value);
  if (!match) return undefined;
  const url = new URL(match[1]!, origin);
  return url.pathname + url.search;
}
