import { createHash } from 'node:crypto';
import type { RegistryCredentials } from './docker-config.js';

export interface RegistryClientOptions {
  /** `http://host:port` or `https://host`. */
  base: string;
  credentials?: RegistryCredentials;
  fetch?: typeof fetch;
}

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

const manifestAccept = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** `http://` for loopback hosts (as Docker treats them as insecure registries) or when asked, else `https://`. */
export function baseUrlFor(host: string, plainHttp = false): string {
  const loopback = /^(localhost|127\.[0-9.]+|\[::1\])(:[0-9]+)?$/.test(host);
  return `${plainHttp || loopback ? 'http' : 'https'}://${host}`;
}

/** A registry's refusal, with the message from its error body. */
export class RegistryRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryRequestError';
  }
}

/**
 * A small Distribution API client for the CLI. Authentication follows the registry's challenge: a
 * `Bearer` challenge sends the stored credentials with Basic to the token realm (Docker's token flow) and
 * retries with the token, cached per scope; a `Basic` challenge is answered with Basic. Bodies are
 * Buffers so that a request can be sent again after the challenge.
 */
export class RegistryClient {
  private readonly fetch: typeof fetch;
  private readonly authorizations = new Map<string, string>();

  constructor(private readonly options: RegistryClientOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  get base(): string {
    return this.options.base;
  }

  /** `GET /v2/` with credentials: succeeds only if the registry accepts them (what `login` checks). */
  async checkLogin(): Promise<void> {
    const response = await this.send('GET', '/v2/', '');
    if (!response.ok) throw await failure(response, 'login failed');
  }

  /** The digest a tag or digest resolves to, undefined when absent. */
  async resolve(repository: string, reference: string): Promise<string | undefined> {
    const response = await this.send('HEAD', `/v2/${repository}/manifests/${reference}`, pull(repository), {
      Accept: manifestAccept,
    });
    if (response.status === 404) return undefined;
    if (!response.ok) throw await failure(response, `cannot resolve ${repository}:${reference}`);
    return response.headers.get('docker-content-digest') ?? undefined;
  }

  async manifest(repository: string, reference: string): Promise<FetchedManifest | undefined> {
    const response = await this.send('GET', `/v2/${repository}/manifests/${reference}`, pull(repository), {
      Accept: manifestAccept,
    });
    if (response.status === 404) return undefined;
    if (!response.ok) throw await failure(response, `cannot fetch ${repository}:${reference}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    return {
      bytes,
      digest,
      mediaType: (response.headers.get('content-type') ?? '').split(';', 1)[0]!.trim(),
    };
  }

  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<string> {
    const response = await this.send(
      'PUT',
      `/v2/${repository}/manifests/${reference}`,
      push(repository),
      { 'Content-Type': mediaType },
      bytes,
    );
    if (response.status !== 201)
      throw await failure(response, `cannot push the manifest of ${repository}:${reference}`);
    return (
      response.headers.get('docker-content-digest') ??
      `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    );
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const response = await this.send('HEAD', `/v2/${repository}/blobs/${digest}`, push(repository));
    if (response.status === 404) return false;
    if (!response.ok) throw await failure(response, `cannot check blob ${digest}`);
    return true;
  }

  /** Uploads a blob unless the repository has it: POST for a session, then one PUT with the digest. */
  async pushBlob(
    repository: string,
    bytes: Buffer,
    digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
  ): Promise<string> {
    if (await this.hasBlob(repository, digest)) return digest;
    const started = await this.send('POST', `/v2/${repository}/blobs/uploads/`, push(repository));
    const location = started.headers.get('location');
    if (started.status !== 202 || location === null)
      throw await failure(started, `cannot start an upload to ${repository}`);
    const target = new URL(location, this.options.base);
    target.searchParams.set('digest', digest);
    const finished = await this.send(
      'PUT',
      target.pathname + target.search,
      push(repository),
      { 'Content-Type': 'application/octet-stream' },
      bytes,
    );
    if (finished.status !== 201) throw await failure(finished, `cannot upload blob ${digest}`);
    return digest;
  }

  /** A blob, checked against its digest. */
  async blob(repository: string, digest: string): Promise<Buffer> {
    const response = await this.send('GET', `/v2/${repository}/blobs/${digest}`, pull(repository));
    if (!response.ok) throw await failure(response, `cannot fetch blob ${digest}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (digest.startsWith('sha256:') && actual !== digest)
      throw new Error(`blob ${digest} arrived with digest ${actual}`);
    return bytes;
  }

  /** Every tag of a repository (following `Link` pages); empty when the repository does not exist. */
  async tags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list?n=1000`;
    while (path !== undefined) {
      const response = await this.send('GET', path, pull(repository));
      if (response.status === 404) return tags;
      if (!response.ok) throw await failure(response, `cannot list the tags of ${repository}`);
      const body = (await response.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const next = /<([^>]+)>;\s*rel="?next"?/.exec(response.headers.get('link') ?? '')?.[1];
      path =
        next === undefined
          ? undefined
          : new URL(next, this.options.base).pathname + new URL(next, this.options.base).search;
    }
    return tags;
  }

  private async send(
    method: string,
    path: string,
    scope: string,
    headers: Record<string, string> = {},
    body?: Buffer,
  ): Promise<Response> {
    const url = new URL(path, this.options.base).toString();
    const payload: BodyInit | undefined = body === undefined ? undefined : new Uint8Array(body);
    const attempt = (authorization: string | undefined): Promise<Response> =>
      this.fetch(url, {
        method,
        headers: { ...headers, ...(authorization !== undefined && { Authorization: authorization }) },
        ...(payload !== undefined && { body: payload }),
        redirect: 'follow',
      });
    const known = this.authorizations.get(scope) ?? this.authorizations.get('basic');
    const first = await attempt(known);
    if (first.status !== 401) return first;
    const authorization = await this.answer(first.headers.get('www-authenticate') ?? '', scope);
    if (authorization === undefined) return first;
    await first.arrayBuffer().catch(() => undefined);
    return attempt(authorization);
  }

  /** The Authorization header that answers a challenge, or undefined when there is nothing to try. */
  private async answer(challenge: string, scope: string): Promise<string | undefined> {
    const credentials = this.options.credentials;
    const basic =
      credentials === undefined
        ? undefined
        : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    if (/^\s*basic\b/i.test(challenge)) {
      if (basic !== undefined) this.authorizations.set('basic', basic);
      return basic;
    }
    if (!/^\s*bearer\b/i.test(challenge)) return undefined;
    const parameters = Object.fromEntries(
      [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]),
    );
    if (parameters.realm === undefined) return undefined;
    const tokenUrl = new URL(parameters.realm);
    if (parameters.service !== undefined) tokenUrl.searchParams.set('service', parameters.service);
    if (scope !== '') tokenUrl.searchParams.set('scope', scope);
    const response = await this.fetch(tokenUrl, {
      headers: basic === undefined ? {} : { Authorization: basic },
    });
    if (!response.ok) throw await failure(response, 'the registry refused the credentials');
    const token = (await response.json()) as { token?: string; access_token?: string };
    const value = token.token ?? token.access_token;
    if (value === undefined) throw new Error('the token endpoint answered without a token');
    this.authorizations.set(scope, `Bearer ${value}`);
    return `Bearer ${value}`;
  }
}

function pull(repository: string): string {
  return `repository:${repository}:pull`;
}

function push(repository: string): string {
  return `repository:${repository}:pull,push`;
}

async function failure(response: Response, what: string): Promise<RegistryRequestError> {
  let detail: string;
  try {
    const text = await response.text();
    const body = JSON.parse(text) as { errors?: { message?: string }[]; error?: string; details?: string };
    detail = body.errors?.[0]?.message ?? body.error ?? body.details ?? text.slice(0, 200);
  } catch {
    detail = '';
  }
  return new RegistryRequestError(
    response.status,
    `${what}: ${response.status}${detail !== '' ? ` ${detail}` : ''}`,
  );
}
