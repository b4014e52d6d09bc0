// What a cluster test checks at its end: everything the registry shows hashes right on every node.
import { ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { get } from 'node:http';
import type { Readable } from 'node:stream';
import { Client } from 'pg';
import { bucketPrefix, type Cluster, type ClusterNode } from './cluster.js';

const acceptAll = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface Fetched {
  status: number;
  /** `sha256:<hex>` of the body that arrived. */
  digest: string;
  size: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body, kept only when it is small (manifests, JSON). */
  body?: Buffer;
}

/** GETs a URL over node:http, hashing the body as it streams (large blobs are never held whole). */
export function fetchHashed(url: string, headers: Record<string, string> = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      const hash = createHash('sha256');
      const kept: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
        if (size <= 1024 * 1024) kept.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          digest: `sha256:${hash.digest('hex')}`,
          size,
          headers: res.headers,
          ...(size <= 1024 * 1024 && { body: Buffer.concat(kept) }),
        }),
      );
    }).on('error', reject);
  });
}

/** `Authorization` for the requests below, when the cluster runs with authentication. */
function authHeaders(authorization?: string): Record<string, string> {
  return authorization === undefined ? {} : { Authorization: authorization };
}

/** GET `/v2/<repository>/blobs/<digest>` on a node, hashed. */
export function fetchBlob(
  node: ClusterNode,
  repository: string,
  digest: string,
  authorization?: string,
): Promise<Fetched> {
  return fetchHashed(`${node.base}/v2/${repository}/blobs/${digest}`, authHeaders(authorization));
}

export function fetchManifest(
  node: ClusterNode,
  repository: string,
  reference: string,
  authorization?: string,
): Promise<Fetched> {
  return fetchHashed(`${node.base}/v2/${repository}/manifests/${reference}`, {
    Accept: acceptAll,
    ...authHeaders(authorization),
  });
}

async function getJson<T>(node: ClusterNode, path: string, authorization?: string): Promise<T> {
  const response = await fetch(`${node.base}${path}`, { headers: authHeaders(authorization) });
  if (response.status !== 200) throw new Error(`node ${node.name}: GET ${path} -> ${response.status}`);
  return (await response.json()) as T;
}

interface Descriptor {
  digest: string;
  size: number;
  urls?: string[];
}
interface Manifest {
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

export interface Verified {
  repositories: number;
  manifests: number;
  /** Blob pulls (manifest, config, layers) checked, counted once per node. */
  pulls: number;
  /** Blob links of the metadata store, each fetched and hashed. */
  links: number;
  /** Blob objects in the bucket, each read and hashed. */
  objects: number;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/**
 * Pulls everything the registry lists from every running node (as admin when the cluster has
 * authentication on: `cluster.authorization`) and checks every byte:
 *  - each tag of each catalog repository resolves to the same manifest on every node, whose bytes hash to
 *    its digest; index children and every config and layer pull completely and hash right on every node;
 *  - every blob link in PostgreSQL (every blob any repository shows) pulls and hashes right, at its size;
 *  - every blob object in the bucket hashes to the digest its key names.
 */
export async function verifyCluster(cluster: Cluster): Promise<Verified> {
  const nodes = cluster.nodes.filter((node) => node.running);
  check(nodes.length > 0, 'no node is running');
  const result: Verified = { repositories: 0, manifests: 0, pulls: 0, links: 0, objects: 0 };
  const auth = cluster.authorization;
  const { repositories } = await getJson<{ repositories: string[] }>(nodes[0]!, '/v2/_catalog?n=10000', auth);
  for (const repository of repositories) {
    result.repositories++;
    const listed = await Promise.all(
      nodes.map((node) =>
        getJson<{ tags: string[] | null }>(node, `/v2/${repository}/tags/list?n=10000`, auth),
      ),
    );
    const tags = listed[0]!.tags ?? [];
    for (const other of listed) check(String(other.tags ?? []) === String(tags), `tags of ${repository}`);
    const seen = new Set<string>();
    const walk = async (reference: string): Promise<void> => {
      let manifest: Manifest | undefined;
      let digest = reference.startsWith('sha256:') ? reference : undefined;
      for (const node of nodes) {
        const got = await fetchManifest(node, repository, reference, auth);
        const where = `node ${node.name}: manifest ${repository}:${reference}`;
        check(got.status === 200, `${where} -> ${got.status}`);
        check(got.headers['docker-content-digest'] === got.digest, `${where} does not hash to its digest`);
        digest ??= got.digest;
        check(got.digest === digest, `${where} is ${got.digest}, not ${digest}`);
        manifest ??= JSON.parse(got.body!.toString('utf8')) as Manifest;
      }
      if (seen.has(digest!)) return;
      seen.add(digest!);
      result.manifests++;
      for (const child of manifest?.manifests ?? []) await walk(child.digest);
      const blobs = [manifest?.config, ...(manifest?.layers ?? [])].filter(
        (d): d is Descriptor => d !== undefined && d.urls === undefined,
      );
      for (const blob of blobs) {
        for (const node of nodes) {
          const got = await fetchBlob(node, repository, blob.digest, auth);
          const where = `node ${node.name}: blob ${repository}@${blob.digest}`;
          check(got.status === 200, `${where} -> ${got.status}`);
          check(got.digest === blob.digest && got.size === blob.size, `${where} hashes wrong`);
          result.pulls++;
        }
      }
    };
    for (const tag of tags) await walk(tag);
  }

  const db = new Client({ connectionString: cluster.database.url });
  await db.connect();
  try {
    const links = await db.query<{ name: string; digest: string; size: string }>(
      'SELECT r.name, l.digest, l.size FROM blob_links l JOIN repositories r ON r.id = l.repository_id',
    );
    for (const [index, link] of links.rows.entries()) {
      const node = nodes[index % nodes.length]!;
      const got = await fetchBlob(node, link.name, link.digest, auth);
      const where = `node ${node.name}: linked blob ${link.name}@${link.digest}`;
      check(got.status === 200, `${where} -> ${got.status}`);
      check(got.digest === link.digest && got.size === Number(link.size), `${where} hashes wrong`);
      result.links++;
    }
  } finally {
    await db.end();
  }

  let token: string | undefined;
  do {
    const page = await cluster.s3.send(
      new ListObjectsV2Command({
        Bucket: cluster.bucket,
        Prefix: `${bucketPrefix}blobs/`,
        ...(token !== undefined && { ContinuationToken: token }),
      }),
    );
    for (const object of page.Contents ?? []) {
      const [algorithm, , hex] = object.Key!.slice(`${bucketPrefix}blobs/`.length).split('/');
      const read = await cluster.s3.send(new GetObjectCommand({ Bucket: cluster.bucket, Key: object.Key }));
      const hash = createHash('sha256');
      for await (const chunk of read.Body as Readable) hash.update(chunk as Buffer);
      check(
        algorithm === 'sha256' && hash.digest('hex') === hex,
        `bucket object ${object.Key} does not hash to its name`,
      );
      result.objects++;
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return result;
}
