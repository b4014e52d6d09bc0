// Blob pulls: HEAD and GET headers, Range requests (206/416, as conformance/run.go on main checks them),
// conditional requests with ETag, per-repository visibility and deletion.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import { assertOciError, call, pushBlob, randomBlob, sha256, uniqueName } from '../support/oci-client.js';

describe('blobs', () => {
  let berth: TestBerth;
  const name = uniqueName('blobs');
  const blob = randomBlob(2048);
  let digest: string;
  const url = () => `/v2/${name}/blobs/${digest}`;

  before(async () => {
    berth = await startTestBerth();
    digest = await pushBlob(berth.base, name, blob);
  });
  after(() => berth.dispose());

  describe('HEAD and GET', () => {
    it('HEAD is 200 with digest, length, ETag and no body', async () => {
      const res = await call(berth.base, url(), { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.equal(res.headers.get('content-length'), '2048');
      assert.equal(res.headers.get('etag'), `"${digest}"`);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    it('GET is 200 with the exact bytes and advertises byte ranges', async () => {
      const res = await call(berth.base, url());
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), '2048');
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      assert.equal(res.headers.get('content-type'), 'application/octet-stream');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob);
    });

    it('a blob is visible only in the repository it was pushed to', async () => {
      await assertOciError(
        await call(berth.base, `/v2/${uniqueName('elsewhere')}/blobs/${digest}`),
        404,
        'BLOB_UNKNOWN',
      );
      const head = await call(berth.base, `/v2/${uniqueName('elsewhere')}/blobs/${digest}`, {
        method: 'HEAD',
      });
      assert.equal(head.status, 404);
      assert.equal((await head.arrayBuffer()).byteLength, 0);
    });

    it('GET of a malformed digest is 400 DIGEST_INVALID', async () => {
      await assertOciError(await call(berth.base, `/v2/${name}/blobs/sha256:xyz`), 400, 'DIGEST_INVALID');
      await assertOciError(
        await call(berth.base, `/v2/${name}/blobs/sha256:${'A'.repeat(64)}`),
        400,
        'DIGEST_INVALID',
      );
      await assertOciError(
        await call(berth.base, `/v2/${name}/blobs/md5:${'a'.repeat(32)}`),
        400,
        'DIGEST_INVALID',
      );
    });

    it('an unsupported method on a blob is 405 UNSUPPORTED', async () => {
      await assertOciError(await call(berth.base, url(), { method: 'PATCH', body: 'x' }), 405, 'UNSUPPORTED');
    });
  });

  describe('Range', () => {
    const range = async (header: string) => call(berth.base, url(), { headers: { Range: header } });

    it('bytes=500-1499 is 206 with 1000 bytes and Content-Range bytes 500-1499/2048', async () => {
      const res = await range('bytes=500-1499');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-length'), '1000');
      assert.equal(res.headers.get('content-range'), 'bytes 500-1499/2048');
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob.subarray(500, 1500));
    });

    it('a suffix range bytes=-500 is the last 500 bytes', async () => {
      const res = await range('bytes=-500');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 1548-2047/2048');
      assert.equal(res.headers.get('content-length'), '500');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob.subarray(1548));
    });

    it('a suffix longer than the blob is the whole blob as 206', async () => {
      const res = await range('bytes=-5000');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 0-2047/2048');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob);
    });

    it('an open range bytes=500- runs to the end', async () => {
      const res = await range('bytes=500-');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 500-2047/2048');
      assert.equal(res.headers.get('content-length'), '1548');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob.subarray(500));
    });

    it('bytes=2000-5000 is clipped to the end of the blob', async () => {
      const res = await range('bytes=2000-5000');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 2000-2047/2048');
      assert.equal(res.headers.get('content-length'), '48');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob.subarray(2000));
    });

    it('the single first and last bytes can be fetched', async () => {
      const first = await range('bytes=0-0');
      assert.equal(first.status, 206);
      assert.deepEqual(Buffer.from(await first.arrayBuffer()), blob.subarray(0, 1));
      const last = await range('bytes=2047-2047');
      assert.equal(last.status, 206);
      assert.equal(last.headers.get('content-range'), 'bytes 2047-2047/2048');
      assert.deepEqual(Buffer.from(await last.arrayBuffer()), blob.subarray(2047));
    });

    for (const header of ['bytes=500-0', 'bytes=5000-10000', 'bytes=2048-', 'bytes=-0']) {
      it(`${header} is 416 RANGE_INVALID with Content-Range bytes */2048`, async () => {
        const res = await range(header);
        assert.equal(res.headers.get('content-range'), 'bytes */2048');
        await assertOciError(res, 416, 'RANGE_INVALID');
      });
    }

    it('a Range header it does not understand serves the whole blob (200)', async () => {
      for (const header of ['items=0-10', 'bytes=0-1,5-6', 'bytes=abc']) {
        const res = await range(header);
        assert.equal(res.status, 200, header);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob);
      }
    });
  });

  describe('ETag and If-None-Match', () => {
    it('GET with a matching If-None-Match is 304 with no body', async () => {
      const res = await call(berth.base, url(), { headers: { 'If-None-Match': `"${digest}"` } });
      assert.equal(res.status, 304);
      assert.equal(res.headers.get('etag'), `"${digest}"`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    it('HEAD with a matching If-None-Match is 304', async () => {
      const res = await call(berth.base, url(), {
        method: 'HEAD',
        headers: { 'If-None-Match': `"${digest}"` },
      });
      assert.equal(res.status, 304);
    });

    it('GET with a different If-None-Match is 200 with the body', async () => {
      const res = await call(berth.base, url(), { headers: { 'If-None-Match': `"${sha256('other')}"` } });
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob);
    });
  });

  describe('DELETE', () => {
    it('DELETE is 202, then GET and HEAD are 404 and a second DELETE is 404', async () => {
      const other = uniqueName('blobs-delete');
      const bytes = randomBlob(100);
      const d = await pushBlob(berth.base, other, bytes);
      const res = await call(berth.base, `/v2/${other}/blobs/${d}`, { method: 'DELETE' });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('content-length'), '0');
      await assertOciError(await call(berth.base, `/v2/${other}/blobs/${d}`), 404, 'BLOB_UNKNOWN');
      assert.equal((await call(berth.base, `/v2/${other}/blobs/${d}`, { method: 'HEAD' })).status, 404);
      await assertOciError(
        await call(berth.base, `/v2/${other}/blobs/${d}`, { method: 'DELETE' }),
        404,
        'BLOB_UNKNOWN',
      );
    });

    it('DELETE in one repository leaves the same blob readable in another', async () => {
      const a = uniqueName('blobs-a');
      const b = uniqueName('blobs-b');
      const bytes = randomBlob(64);
      const d = await pushBlob(berth.base, a, bytes);
      await pushBlob(berth.base, b, bytes);
      assert.equal((await call(berth.base, `/v2/${a}/blobs/${d}`, { method: 'DELETE' })).status, 202);
      const res = await call(berth.base, `/v2/${b}/blobs/${d}`);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    });

    it('pushing a deleted blob again makes it readable again', async () => {
      const other = uniqueName('blobs-again');
      const bytes = randomBlob(80);
      const d = await pushBlob(berth.base, other, bytes);
      assert.equal((await call(berth.base, `/v2/${other}/blobs/${d}`, { method: 'DELETE' })).status, 202);
      await pushBlob(berth.base, other, bytes);
      const res = await call(berth.base, `/v2/${other}/blobs/${d}`);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    });
  });
});
