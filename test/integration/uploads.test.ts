// Blob uploads: monolithic, chunked with Content-Range, streamed (the Docker engine's way), cancelled,
// failed digest checks, sessions that outlive a restart, clients that vanish mid-PATCH and concurrent
// pushes of the same content.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  assertOciError,
  call,
  pushBlob,
  randomBlob,
  sha256,
  sleep,
  startUpload,
  uniqueName,
  withQuery,
} from '../support/oci-client.js';

describe('uploads', () => {
  let berth: TestBerth;
  const name = uniqueName('uploads');

  before(async () => {
    berth = await startTestBerth();
  });
  after(() => berth.dispose());

  const patch = (location: string, body: Buffer, contentRange?: string) =>
    call(berth.base, location, {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/octet-stream',
        ...(contentRange !== undefined && { 'Content-Range': contentRange }),
      },
      body,
    });
  const finish = (location: string, digest: string, body?: Buffer, headers: Record<string, string> = {}) =>
    call(berth.base, withQuery(berth.base, location, { digest }), {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream', ...headers },
      ...(body && { body }),
    });
  const nextLocation = (res: Response) => new URL(res.headers.get('location')!, berth.base).toString();
  const readBlob = async (repo: string, digest: string) => {
    const res = await call(berth.base, `/v2/${repo}/blobs/${digest}`);
    assert.equal(res.status, 200);
    return Buffer.from(await res.arrayBuffer());
  };

  it('POST opens a session: 202, a relative Location, Range 0-0 and Docker-Upload-UUID', async () => {
    const res = await call(berth.base, `/v2/${name}/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 202);
    const location = res.headers.get('location') ?? '';
    assert.match(location, new RegExp(`^/v2/${name}/blobs/uploads/[0-9a-f-]{36}$`));
    assert.equal(res.headers.get('range'), '0-0');
    assert.equal(location.split('/').pop(), res.headers.get('docker-upload-uuid'));
    const status = await call(berth.base, location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-0');
    assert.equal(status.headers.get('location'), location);
  });

  it('two sessions get different ids', async () => {
    assert.notEqual(await startUpload(berth.base, name), await startUpload(berth.base, name));
  });

  it('chunked PATCH with Content-Range, then PUT with the digest, assembles the blob', async () => {
    const blob = randomBlob(3000);
    let location = await startUpload(berth.base, name);
    for (const [start, end] of [
      [0, 999],
      [1000, 1999],
      [2000, 2999],
    ] as const) {
      const res = await patch(location, blob.subarray(start, end + 1), `${start}-${end}`);
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('range'), `0-${end}`);
      location = nextLocation(res);
    }
    const res = await finish(location, sha256(blob));
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), `/v2/${name}/blobs/${sha256(blob)}`);
    assert.equal(res.headers.get('docker-content-digest'), sha256(blob));
    assert.deepEqual(await readBlob(name, sha256(blob)), blob);
  });

  it('the closing PUT may carry the last chunk', async () => {
    const blob = randomBlob(1500);
    const location = await startUpload(berth.base, name);
    assert.equal((await patch(location, blob.subarray(0, 1000), '0-999')).status, 202);
    const res = await finish(location, sha256(blob), blob.subarray(1000), { 'Content-Range': '1000-1499' });
    assert.equal(res.status, 201);
    assert.deepEqual(await readBlob(name, sha256(blob)), blob);
  });

  it('an out-of-order chunk is 416 and the session lives on (GET 204 with Range)', async () => {
    const blob = randomBlob(2000);
    const location = await startUpload(berth.base, name);
    assert.equal((await patch(location, blob.subarray(0, 1000), '0-999')).status, 202);
    const skip = await patch(location, blob.subarray(1500), '1500-1999');
    await assertOciError(skip, 416, 'RANGE_INVALID');
    const replay = await patch(location, blob.subarray(0, 1000), '0-999');
    await assertOciError(replay, 416, 'RANGE_INVALID');
    const status = await call(berth.base, location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-999');
    assert.ok(status.headers.get('location'));
    assert.equal((await patch(location, blob.subarray(1000), '1000-1999')).status, 202);
    assert.equal((await finish(location, sha256(blob))).status, 201);
    assert.deepEqual(await readBlob(name, sha256(blob)), blob);
  });

  it('a Content-Range that disagrees with the body length, or is malformed, is 416', async () => {
    const location = await startUpload(berth.base, name);
    await assertOciError(await patch(location, randomBlob(10), '0-99'), 416, 'RANGE_INVALID');
    await assertOciError(await patch(location, randomBlob(10), 'garbage'), 416, 'RANGE_INVALID');
    await assertOciError(await patch(location, randomBlob(10), '9-0'), 416, 'RANGE_INVALID');
    const status = await call(berth.base, location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-0');
  });

  it('a streamed PATCH without Content-Range, then PUT with an empty body, is accepted', async () => {
    const blob = randomBlob(4096);
    const location = await startUpload(berth.base, name);
    const res = await patch(location, blob);
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('range'), '0-4095');
    const done = await finish(nextLocation(res), sha256(blob), undefined, { 'Content-Length': '0' });
    assert.equal(done.status, 201);
    assert.deepEqual(await readBlob(name, sha256(blob)), blob);
  });

  it('several streamed PATCHes append in order', async () => {
    const blob = randomBlob(300);
    const location = await startUpload(berth.base, name);
    for (let i = 0; i < 3; i++)
      assert.equal((await patch(location, blob.subarray(i * 100, (i + 1) * 100))).status, 202);
    assert.equal((await finish(location, sha256(blob))).status, 201);
    assert.deepEqual(await readBlob(name, sha256(blob)), blob);
  });

  it('an empty blob can be uploaded and pulled', async () => {
    const empty = Buffer.alloc(0);
    const location = await startUpload(berth.base, name);
    assert.equal((await finish(location, sha256(empty))).status, 201);
    const head = await call(berth.base, `/v2/${name}/blobs/${sha256(empty)}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '0');
    assert.equal((await readBlob(name, sha256(empty))).length, 0);
  });

  it('a sha512 digest is verified and served', async () => {
    const blob = randomBlob(256);
    const digest = `sha512:${createHash('sha512').update(blob).digest('hex')}`;
    const location = await startUpload(berth.base, name);
    const res = await finish(location, digest, blob);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.deepEqual(await readBlob(name, digest), blob);
  });

  it('DELETE cancels an upload: 204, then the session is 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const location = await startUpload(berth.base, name);
    assert.equal((await patch(location, randomBlob(10), '0-9')).status, 202);
    const res = await call(berth.base, location, { method: 'DELETE' });
    assert.equal(res.status, 204);
    await assertOciError(await call(berth.base, location), 404, 'BLOB_UPLOAD_UNKNOWN');
    await assertOciError(await patch(location, randomBlob(10), '0-9'), 404, 'BLOB_UPLOAD_UNKNOWN');
    await assertOciError(await finish(location, sha256('x'), Buffer.from('x')), 404, 'BLOB_UPLOAD_UNKNOWN');
    await assertOciError(await call(berth.base, location, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('a wrong digest on PUT is 400 DIGEST_INVALID and nothing becomes visible', async () => {
    const blob = randomBlob(500);
    const claimed = sha256('something else');
    const location = await startUpload(berth.base, name);
    await assertOciError(await finish(location, claimed, blob), 400, 'DIGEST_INVALID');
    await assertOciError(await call(berth.base, `/v2/${name}/blobs/${claimed}`), 404, 'BLOB_UNKNOWN');
    await assertOciError(await call(berth.base, `/v2/${name}/blobs/${sha256(blob)}`), 404, 'BLOB_UNKNOWN');
    const status = await call(berth.base, location);
    assert.ok(status.status === 404 || status.status === 204, `status after a failed PUT: ${status.status}`);
    await status.arrayBuffer();
  });

  it('a wrong digest on a monolithic POST is 400 DIGEST_INVALID and nothing becomes visible', async () => {
    const blob = randomBlob(500);
    const claimed = sha256('not this');
    const res = await call(
      berth.base,
      withQuery(berth.base, `/v2/${name}/blobs/uploads/`, { digest: claimed }),
      { method: 'POST', body: blob },
    );
    await assertOciError(res, 400, 'DIGEST_INVALID');
    await assertOciError(await call(berth.base, `/v2/${name}/blobs/${claimed}`), 404, 'BLOB_UNKNOWN');
    await assertOciError(await call(berth.base, `/v2/${name}/blobs/${sha256(blob)}`), 404, 'BLOB_UNKNOWN');
  });

  it('PUT without a digest, or with a malformed one, is 400 DIGEST_INVALID', async () => {
    const location = await startUpload(berth.base, name);
    await assertOciError(
      await call(berth.base, location, { method: 'PUT', body: Buffer.from('abc') }),
      400,
      'DIGEST_INVALID',
    );
    await assertOciError(await finish(location, 'sha256:short', Buffer.from('abc')), 400, 'DIGEST_INVALID');
  });

  it('an upload is reachable only through its own repository', async () => {
    const location = await startUpload(berth.base, name);
    const id = location.split('/').pop()!;
    await assertOciError(
      await call(berth.base, `/v2/${uniqueName('other')}/blobs/uploads/${id}`),
      404,
      'BLOB_UPLOAD_UNKNOWN',
    );
    await assertOciError(
      await call(berth.base, `/v2/${name}/blobs/uploads/00000000-0000-0000-0000-000000000000`),
      404,
      'BLOB_UPLOAD_UNKNOWN',
    );
    await assertOciError(
      await call(berth.base, `/v2/${name}/blobs/uploads/not-an-id`, { method: 'PATCH', body: 'x' }),
      404,
      'BLOB_UPLOAD_UNKNOWN',
    );
  });

  it('a client that disconnects mid-PATCH leaves no blob; the session then resumes or fails cleanly', async () => {
    const blob = randomBlob(256 * 1024);
    const location = await startUpload(berth.base, name);
    const url = new URL(location);
    await new Promise<void>((resolve) => {
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'PATCH',
        headers: { 'Content-Length': String(blob.length), 'Content-Type': 'application/octet-stream' },
      });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      req.write(blob.subarray(0, 100 * 1024));
      setTimeout(() => req.destroy(), 150);
    });
    await assertOciError(await call(berth.base, `/v2/${name}/blobs/${sha256(blob)}`), 404, 'BLOB_UNKNOWN');
    // Wait until the server has noticed the disconnect and the offset is stable.
    let offset = -1;
    for (let i = 0; i < 50; i++) {
      const status = await call(berth.base, location);
      await status.arrayBuffer();
      if (status.status === 404) return; // the session failed cleanly
      assert.equal(status.status, 204);
      const range = status.headers.get('range') ?? '';
      assert.match(range, /^0-\d+$/);
      // "0-0" is how an empty session reports itself; 100 KiB were sent, so more than one byte means data.
      const now = range === '0-0' ? 0 : Number(range.split('-')[1]) + 1;
      if (now === offset) break;
      offset = now;
      await sleep(50);
    }
    const received = offset;
    assert.ok(received >= 0 && received <= 100 * 1024, `kept ${received} bytes of 100 KiB sent`);
    const resumed = await patch(location, blob.subarray(received), `${received}-${blob.length - 1}`);
    assert.equal(resumed.status, 202, await resumed.clone().text());
    assert.equal(resumed.headers.get('range'), `0-${blob.length - 1}`);
    assert.equal((await finish(location, sha256(blob))).status, 201);
    assert.deepEqual(await readBlob(name, sha256(blob)), blob);
  });

  it('concurrent pushes of the same blob all succeed and leave one consistent blob', async () => {
    const blob = randomBlob(64 * 1024);
    const digests = await Promise.all(Array.from({ length: 8 }, () => pushBlob(berth.base, name, blob)));
    assert.deepEqual(new Set(digests), new Set([sha256(blob)]));
    assert.deepEqual(await readBlob(name, sha256(blob)), blob);
  });

  it('concurrent chunked and monolithic pushes of the same blob into several repositories all succeed', async () => {
    const blob = randomBlob(10_000);
    const repos = Array.from({ length: 4 }, () => uniqueName('uploads-race'));
    const chunked = async (repo: string) => {
      const location = await startUpload(berth.base, repo);
      assert.equal((await patch(location, blob.subarray(0, 5000), '0-4999')).status, 202);
      assert.equal((await patch(location, blob.subarray(5000), '5000-9999')).status, 202);
      const res = await finish(location, sha256(blob));
      assert.equal(res.status, 201);
    };
    await Promise.all(repos.flatMap((repo) => [chunked(repo), pushBlob(berth.base, repo, blob)]));
    for (const repo of repos) assert.deepEqual(await readBlob(repo, sha256(blob)), blob);
  });
});

describe('uploads across a restart', () => {
  it('an upload Location keeps working after the server restarts on the same data folder', async () => {
    const first = await startTestBerth();
    const dataDir = first.dataDir;
    const name = uniqueName('restart');
    const blob = randomBlob(5000);
    try {
      const location = new URL(await startUpload(first.base, name));
      const path = `${location.pathname}${location.search}`;
      const res = await call(first.base, path, {
        method: 'PATCH',
        headers: { 'Content-Range': '0-2999' },
        body: blob.subarray(0, 3000),
      });
      assert.equal(res.status, 202);
      await first.stop();

      const second = await startTestBerth({}, { dataDir });
      try {
        const status = await call(second.base, path);
        assert.equal(status.status, 204);
        assert.equal(status.headers.get('range'), '0-2999');
        const rest = await call(second.base, path, {
          method: 'PATCH',
          headers: { 'Content-Range': '3000-4999' },
          body: blob.subarray(3000),
        });
        assert.equal(rest.status, 202);
        assert.equal(rest.headers.get('range'), '0-4999');
        const done = await call(second.base, withQuery(second.base, path, { digest: sha256(blob) }), {
          method: 'PUT',
        });
        assert.equal(done.status, 201);
        const get = await call(second.base, `/v2/${name}/blobs/${sha256(blob)}`);
        assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob);
      } finally {
        await second.dispose();
      }
    } finally {
      await first.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
