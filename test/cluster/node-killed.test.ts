// A node dies (SIGKILL: no shutdown, no cleanup) while a large upload streams into it. The client then
// asks another node how far the upload got and resumes there, or starts the upload again elsewhere. Both
// complete, the dead node comes back, and everything pushed pulls whole from every node; no blob that
// does not hash right is visible anywhere.
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { after, describe, it } from 'node:test';
import { bucketPrefix, startCluster, type Cluster, type ClusterNode } from '../support/cluster.js';
import { fetchBlob, verifyCluster } from '../support/cluster-checks.js';
import {
  call,
  descriptorOf,
  imageManifest,
  ociLayerType,
  pushImage,
  pushManifest,
  randomBlob,
  sha256,
  sleep,
  withQuery,
} from '../support/oci-client.js';
import { keys } from '../support/s3.js';
import { sharedSetup } from '../support/setup.js';

const MiB = 1024 * 1024;
/** The S3 store's default multipart part size: what a node has made durable comes in these steps. */
const partSize = 8 * MiB;

/** A request whose body is written piece by piece (chunked), as a client streams a large layer. */
function streamRequest(node: ClusterNode, method: string, path: string) {
  const req = request(`${node.base}${path}`, {
    method,
    headers: { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' },
    timeout: 30_000,
  });
  req.once('timeout', () => req.destroy(new Error(`${method} ${path} on ${node.name} timed out`)));
  let closed = false;
  req.once('close', () => (closed = true));
  const outcome = new Promise<IncomingMessage | Error>((resolve) => {
    req.once('response', resolve);
    req.once('error', resolve);
  });
  return {
    outcome,
    /** Writes `bytes` in 1 MiB pieces, waiting for each to drain; stops early if the request ends. */
    async write(bytes: Buffer): Promise<void> {
      for (let at = 0; at < bytes.length && !closed && !req.destroyed; at += MiB) {
        if (!req.write(bytes.subarray(at, at + MiB))) {
          await new Promise<void>((resolve) => {
            const done = () => {
              req.off('drain', done);
              req.off('close', done);
              resolve();
            };
            req.on('drain', done);
            req.on('close', done);
            if (closed || req.destroyed) done();
          });
        }
      }
    },
    end: () => req.end(),
  };
}

/** Polls until `probe` answers at least `bytes`, and returns what it answered. */
async function waitFor(what: string, bytes: number, probe: () => Promise<number>): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const got = await probe();
    if (got >= bytes) return got;
    if (Date.now() > deadline) throw new Error(`${what}: still ${got} bytes after 20 s`);
    await sleep(20);
  }
}

/** Bytes an upload has made durable, as another node reports them (`Range: 0-<last>`). */
async function progress(node: ClusterNode, location: string): Promise<number> {
  const res = await call(node.base, location);
  assert.equal(res.status, 204, `GET upload status on ${node.name}`);
  const range = /^0-(\d+)$/.exec(res.headers.get('range') ?? '');
  assert.ok(range, `Range header: ${res.headers.get('range')}`);
  // `0-0` is what an empty upload reports too; a one-byte upload cannot occur here.
  return range[1] === '0' ? 0 : Number(range[1]) + 1;
}

describe('cluster: a node killed in the middle of a large upload', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let a: ClusterNode, b: ClusterNode, c: ClusterNode;
  const repository = 'failover/app';
  const layers: Buffer[] = [];

  const ready = sharedSetup(async () => {
    cluster = await startCluster(3);
    [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  });
  after(() => cluster?.dispose());

  async function assertInvisible(digest: string): Promise<void> {
    for (const node of cluster.nodes.filter((n) => n.running)) {
      const res = await call(node.base, `/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
      assert.equal(res.status, 404, `${digest} visible on ${node.name} before it was complete`);
    }
  }

  it('an image pushed before the failure is there throughout', async () => {
    await ready();
    await pushImage(b.base, 'failover/before', '1');
  });

  it('b dies mid-PATCH; the client reads the progress from c, resumes there and finishes on a', async (t) => {
    await ready();
    const blob = randomBlob(40 * MiB);
    const digest = sha256(blob);
    const opened = await call(b.base, `/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    assert.equal(opened.status, 202);
    const location = opened.headers.get('location')!;
    const id = opened.headers.get('docker-upload-uuid')!;

    const patch = streamRequest(b, 'PATCH', location);
    await patch.write(blob.subarray(0, 20 * MiB));
    // Kill as soon as another node sees a first part made durable, while b is still storing the rest.
    await waitFor('first part on b', partSize, () => progress(c, location));
    await b.kill();
    const outcome = await patch.outcome;
    assert.ok(outcome instanceof Error, `the PATCH to the killed node cannot succeed`);

    // The client's retry: how far did it get? Ask another node.
    const offset = await progress(c, location);
    assert.equal(offset % partSize, 0, `only whole parts survive b: ${offset}`);
    assert.ok(offset >= partSize && offset <= 20 * MiB, `progress after the kill: ${offset}`);
    assert.equal(await progress(a, location), offset, 'a agrees with c');
    t.diagnostic(`b was killed with 20 MiB sent; c reports ${offset / MiB} MiB stored; resuming there`);
    await assertInvisible(digest);

    const rest = await call(c.base, location, {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${offset}-${blob.length - 1}`,
      },
      body: blob.subarray(offset),
    });
    assert.equal(rest.status, 202, await rest.text());
    assert.equal(rest.headers.get('range'), `0-${blob.length - 1}`);
    await assertInvisible(digest);
    const put = await call(a.base, withQuery(a.base, location, { digest }), { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());

    for (const node of [a, c]) {
      const got = await fetchBlob(node, repository, digest);
      assert.equal(got.digest, digest, `sha256 via ${node.name}`);
    }
    // Committing removed what the killed node left: its unfinished part, its multipart upload.
    assert.deepEqual(await keys(cluster.s3, cluster.bucket, `${bucketPrefix}uploads/${id}/`), []);
    layers.push(blob);
  });

  it('b restarts and serves that blob', async () => {
    await ready();
    await b.start();
    const got = await fetchBlob(b, repository, sha256(layers[0]!));
    assert.equal(got.status, 200);
    assert.equal(got.digest, sha256(layers[0]!));
  });

  it('c dies mid-way through a monolithic POST; the client starts over on a and b', async () => {
    await ready();
    const blob = randomBlob(40 * MiB);
    const digest = sha256(blob);
    const post = streamRequest(c, 'POST', `/v2/${repository}/blobs/uploads/?digest=${digest}`);
    await post.write(blob.subarray(0, 20 * MiB));
    // The client has no Location to ask; watch the bucket for the upload's first durable part.
    await waitFor('first part on c', partSize, () => storedUploadBytes(cluster));
    await c.kill();
    assert.ok((await post.outcome) instanceof Error, 'the POST to the killed node cannot succeed');
    await assertInvisible(digest);

    // Start over, streamed (the Docker engine's way) through b, opened and closed on a.
    const opened = await call(a.base, `/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    const location = opened.headers.get('location')!;
    const patch = streamRequest(b, 'PATCH', location);
    await patch.write(blob);
    patch.end();
    const patched = await patch.outcome;
    if (patched instanceof Error) throw patched;
    assert.equal(patched.statusCode, 202);
    patched.resume();
    await assertInvisible(digest);
    const put = await call(a.base, withQuery(a.base, location, { digest }), { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
    layers.push(blob);

    await c.start();
    for (const node of [a, b, c]) {
      const got = await fetchBlob(node, repository, digest);
      assert.equal(got.digest, digest, `sha256 via ${node.name}`);
    }
  });

  it('an image of both blobs pushed through the restarted c pulls whole from every node', async () => {
    await ready();
    assert.equal(layers.length, 2, 'both uploads completed');
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' } }),
    );
    const opened = await call(c.base, `/v2/${repository}/blobs/uploads/?digest=${sha256(config)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: config,
    });
    assert.equal(opened.status, 201);
    const manifest = imageManifest({
      config: descriptorOf('application/vnd.oci.image.config.v1+json', config),
      layers: layers.map((layer) => descriptorOf(ociLayerType, layer)),
    });
    await pushManifest(c.base, repository, '1.0', manifest);

    const verified = await verifyCluster(cluster);
    assert.equal(verified.repositories, 2);
    assert.equal(
      verified.pulls,
      3 * (2 + 3),
      `every blob of both images from every node: ${JSON.stringify(verified)}`,
    );
    // failover/before: config, layer, manifest; failover/app: config, two layers, manifest.
    assert.equal(verified.links, 7);
    assert.equal(verified.objects, 7, 'the abandoned upload left no blob object');
  });
});

/** The most bytes any upload state in the bucket records (the monolithic POST gives no Location). */
async function storedUploadBytes(cluster: Cluster): Promise<number> {
  const listed = await cluster.s3.send(
    new ListObjectsV2Command({ Bucket: cluster.bucket, Prefix: `${bucketPrefix}uploads/` }),
  );
  let most = 0;
  for (const object of listed.Contents ?? []) {
    if (!object.Key?.endsWith('/state.json')) continue;
    const read = await cluster.s3
      .send(new GetObjectCommand({ Bucket: cluster.bucket, Key: object.Key }))
      .catch(() => undefined); // replaced between the listing and the read
    const text = await read?.Body?.transformToString();
    if (text !== undefined) most = Math.max(most, (JSON.parse(text) as { offset: number }).offset);
  }
  return most;
}
