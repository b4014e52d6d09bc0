// One blob upload whose requests land on different nodes, as behind a load balancer without affinity:
// POST on one node, each PATCH on another, the closing PUT on a third. The session is in PostgreSQL and
// the bytes in S3, so any node continues where the last one stopped.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startCluster, type Cluster, type ClusterNode } from '../support/cluster.js';
import { fetchBlob, verifyCluster } from '../support/cluster-checks.js';
import { assertOciError, call, randomBlob, sha256, withQuery } from '../support/oci-client.js';
import { sharedSetup } from '../support/setup.js';

const MiB = 1024 * 1024;

interface Step {
  node: ClusterNode;
  bytes: number;
  /** Streamed PATCH without Content-Range (the Docker engine's way) instead of a ranged chunk. */
  streamed?: boolean;
}

describe('cluster: one upload, its requests spread over three nodes', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let a: ClusterNode, b: ClusterNode, c: ClusterNode;

  const ready = sharedSetup(async () => {
    cluster = await startCluster(3);
    [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  });
  after(() => cluster?.dispose());

  /** Every node must report the same progress for the session. */
  async function assertProgress(location: string, offset: number): Promise<void> {
    for (const node of [a, b, c]) {
      const res = await call(node.base, location);
      assert.equal(res.status, 204, `GET upload on ${node.name}`);
      assert.equal(res.headers.get('range'), `0-${Math.max(0, offset - 1)}`, `progress seen by ${node.name}`);
    }
  }

  async function assertInvisible(repository: string, digest: string): Promise<void> {
    for (const node of [a, b, c]) {
      const res = await call(node.base, `/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
      assert.equal(res.status, 404, `${digest} must not be visible on ${node.name}`);
    }
  }

  /** POST on `start`, the chunks as `steps` say, then PUT (with `last` bytes as its body) on `finish`. */
  async function upload(
    repository: string,
    start: ClusterNode,
    steps: Step[],
    finish: ClusterNode,
    last = 0,
  ): Promise<{ blob: Buffer; digest: string }> {
    const total = steps.reduce((sum, step) => sum + step.bytes, 0) + last;
    const blob = randomBlob(total);
    const digest = sha256(blob);
    const opened = await call(start.base, `/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    assert.equal(opened.status, 202);
    let location = opened.headers.get('location')!;
    assert.match(location, /^\/v2\/.+\/blobs\/uploads\/[0-9a-f-]{36}$/, 'the Location names no node');
    let offset = 0;
    for (const step of steps) {
      const chunk = blob.subarray(offset, offset + step.bytes);
      const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
      if (!step.streamed) headers['Content-Range'] = `${offset}-${offset + step.bytes - 1}`;
      const res = await call(step.node.base, location, { method: 'PATCH', headers, body: chunk });
      assert.equal(res.status, 202, `PATCH on ${step.node.name}: ${await res.text()}`);
      offset += step.bytes;
      assert.equal(res.headers.get('range'), `0-${offset - 1}`);
      location = res.headers.get('location')!;
      await assertProgress(location, offset);
      await assertInvisible(repository, digest);
    }
    const tail = blob.subarray(offset);
    const res = await call(finish.base, withQuery(finish.base, location, { digest }), {
      method: 'PUT',
      headers: {
        'Content-Type': 'application/octet-stream',
        ...(tail.length > 0 && { 'Content-Range': `${offset}-${total - 1}` }),
      },
      ...(tail.length > 0 && { body: tail }),
    });
    assert.equal(res.status, 201, `PUT on ${finish.name}: ${await res.text()}`);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    return { blob, digest };
  }

  async function assertPulls(repository: string, digest: string, size: number): Promise<void> {
    for (const node of [b, c, a]) {
      const got = await fetchBlob(node, repository, digest);
      assert.equal(got.status, 200, `GET on ${node.name}`);
      assert.equal(got.size, size, `size on ${node.name}`);
      assert.equal(got.digest, digest, `sha256 of what ${node.name} serves`);
    }
  }

  it('chunks of 5 MiB and more: POST on a, PATCH on b, PATCH on c, PUT on a, GET on b', async () => {
    await ready();
    // 9 MiB fills one 8 MiB multipart part on b and leaves a tail; c, without b's running hash, must
    // complete b's multipart upload to read it back, re-hash, and go on from there.
    const steps = [
      { node: b, bytes: 9 * MiB },
      { node: c, bytes: 6 * MiB },
    ];
    const { blob, digest } = await upload('split/large', a, steps, a);
    await assertPulls('split/large', digest, blob.length);
  });

  it('larger chunks with the last one in the PUT, after a small first chunk', async () => {
    await ready();
    const steps = [
      { node: c, bytes: 100 * 1024 },
      { node: a, bytes: 17 * MiB },
    ];
    const { blob, digest } = await upload('split/mixed', b, steps, c, 5 * MiB + 3);
    await assertPulls('split/mixed', digest, blob.length);
  });

  it('small chunks, ranged and streamed, each on another node', async () => {
    await ready();
    const steps = [
      { node: b, bytes: 1000 },
      { node: c, bytes: 1 },
      { node: a, bytes: 4093, streamed: true },
      { node: b, bytes: 64 * 1024 },
    ];
    const { blob, digest } = await upload('split/small', a, steps, c, 7);
    await assertPulls('split/small', digest, blob.length);
  });

  it('a chunk at the wrong offset is refused on any node, and the upload goes on', async () => {
    await ready();
    const blob = randomBlob(6 * MiB);
    const digest = sha256(blob);
    const opened = await call(c.base, '/v2/split/offsets/blobs/uploads/', { method: 'POST' });
    const location = opened.headers.get('location')!;
    const first = await call(a.base, location, {
      method: 'PATCH',
      headers: { 'Content-Range': `0-${5 * MiB - 1}` },
      body: blob.subarray(0, 5 * MiB),
    });
    assert.equal(first.status, 202);
    // A retry of the same chunk on another node (the client missed the answer) starts at the wrong byte.
    const again = await call(b.base, location, {
      method: 'PATCH',
      headers: { 'Content-Range': `0-${5 * MiB - 1}` },
      body: blob.subarray(0, 5 * MiB),
    });
    await assertOciError(again, 416, 'RANGE_INVALID');
    await assertProgress(location, 5 * MiB);
    const put = await call(b.base, withQuery(b.base, location, { digest }), {
      method: 'PUT',
      headers: { 'Content-Range': `${5 * MiB}-${6 * MiB - 1}` },
      body: blob.subarray(5 * MiB),
    });
    assert.equal(put.status, 201, await put.text());
    await assertPulls('split/offsets', digest, blob.length);
  });

  it('a PUT with the wrong digest on another node makes nothing visible and ends the session', async () => {
    await ready();
    const blob = randomBlob(6 * MiB + 17);
    const claimed = sha256(Buffer.from('something else'));
    const opened = await call(a.base, '/v2/split/wrong/blobs/uploads/', { method: 'POST' });
    const location = opened.headers.get('location')!;
    const patched = await call(b.base, location, {
      method: 'PATCH',
      headers: { 'Content-Range': `0-${blob.length - 1}` },
      body: blob,
    });
    assert.equal(patched.status, 202);
    const put = await call(c.base, withQuery(c.base, location, { digest: claimed }), { method: 'PUT' });
    await assertOciError(put, 400, 'DIGEST_INVALID');
    await assertInvisible('split/wrong', claimed);
    await assertInvisible('split/wrong', sha256(blob));
    for (const node of [a, b, c]) {
      await assertOciError(await call(node.base, location), 404, 'BLOB_UPLOAD_UNKNOWN');
    }
  });

  it('afterwards every blob link and every stored blob hashes right on every node', async () => {
    await ready();
    const verified = await verifyCluster(cluster);
    assert.equal(verified.links, 4, JSON.stringify(verified));
    assert.equal(verified.objects, 4, JSON.stringify(verified));
  });
});
