// The checks of the OCI conformance suite's push workflow (distribution-spec v1.1.1
// conformance/02_push_test.go), in its order, with automatic cross-mounting both used (mount without
// `from`) and bypassed (mount with an explicit `from`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  assertOciError,
  call,
  descriptorOf,
  emptyJson,
  emptyJsonDigest,
  imageIndex,
  imageManifest,
  ociConfigType,
  ociEmptyType,
  ociIndexType,
  ociLayerType,
  ociManifestType,
  pushBlob,
  putManifest,
  randomBlob,
  sha256,
  uniqueName,
  withQuery,
} from '../support/oci-client.js';

describe('conformance: push', () => {
  let berth: TestBerth;
  const name = uniqueName('conformance/push');
  const crossmount = uniqueName('conformance/other');
  const blobA = randomBlob(300);
  const blobB = randomBlob(2 * 512);
  const chunk1 = blobB.subarray(0, 512);
  const chunk2 = blobB.subarray(512);
  const refBlob = randomBlob(64);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const layer = randomBlob(2048);
  const manifest = imageManifest({
    config: descriptorOf(ociConfigType, config),
    layers: [descriptorOf(ociLayerType, layer)],
  });
  const dummyDigest = sha256('never pushed anywhere');
  let index: Buffer;

  before(async () => {
    berth = await startTestBerth();
  });
  after(() => berth.dispose());

  const location = async (res: Response): Promise<string> => {
    const value = res.headers.get('location');
    assert.ok(value, 'Location header');
    await res.arrayBuffer();
    return new URL(value, berth.base).toString();
  };

  describe('setup', () => {
    it('uploads the empty JSON blob, whose digest is the well-known one', async () => {
      assert.equal(sha256(emptyJson), emptyJsonDigest);
      assert.equal(await pushBlob(berth.base, name, emptyJson), emptyJsonDigest);
    });

    it('uploads a reference blob', async () => {
      await pushBlob(berth.base, name, refBlob);
    });
  });

  describe('blob upload streamed', () => {
    let session: string;
    it('PATCH with the blob in the body is 202', async () => {
      const start = await call(berth.base, `/v2/${name}/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      const res = await call(berth.base, await location(start), {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: blobA,
      });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('range'), `0-${blobA.length - 1}`);
      session = await location(res);
    });

    it('PUT to the session URL with the digest (no body) is 201 with a Location', async () => {
      const res = await call(berth.base, withQuery(berth.base, session, { digest: sha256(blobA) }), {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
      });
      assert.equal(res.status, 201);
      assert.equal(await location(res), `${berth.base}/v2/${name}/blobs/${sha256(blobA)}`);
    });
  });

  describe('blob upload monolithic', () => {
    it('GET of a nonexistent blob is 404', async () => {
      await assertOciError(await call(berth.base, `/v2/${name}/blobs/${dummyDigest}`), 404, 'BLOB_UNKNOWN');
    });

    it('POST with digest and blob is 201 (or 202) with a Location, and GET agrees', async () => {
      const res = await call(
        berth.base,
        withQuery(berth.base, `/v2/${name}/blobs/uploads/`, { digest: sha256(config) }),
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/octet-stream' },
          body: config,
        },
      );
      assert.ok(res.status === 201 || res.status === 202, `status ${res.status}`);
      const status = res.status;
      await location(res);
      const get = await call(berth.base, `/v2/${name}/blobs/${sha256(config)}`);
      assert.equal(get.status, status === 202 ? 404 : 200);
      await get.arrayBuffer();
    });

    it('POST yields a session id (202), and PUT of the blob to it is 201', async () => {
      const start = await call(berth.base, `/v2/${name}/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      const res = await call(
        berth.base,
        withQuery(berth.base, await location(start), { digest: sha256(layer) }),
        {
          method: 'PUT',
          headers: { 'Content-Type': 'application/octet-stream' },
          body: layer,
        },
      );
      assert.equal(res.status, 201);
      await location(res);
    });

    it('GET of the uploaded layer is 200 with its bytes', async () => {
      const res = await call(berth.base, `/v2/${name}/blobs/${sha256(layer)}`);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), layer);
    });
  });

  describe('blob upload chunked', () => {
    let first: string;
    let next: string;

    it('an out-of-order chunk is 416', async () => {
      const start = await call(berth.base, `/v2/${name}/blobs/uploads/`, {
        method: 'POST',
        headers: { 'Content-Length': '0' },
      });
      const res = await call(berth.base, await location(start), {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `512-${blobB.length - 1}` },
        body: chunk2,
      });
      await assertOciError(res, 416, 'RANGE_INVALID');
    });

    it('PATCH of the first chunk is 202 with Range 0-511', async () => {
      const start = await call(berth.base, `/v2/${name}/blobs/uploads/`, {
        method: 'POST',
        headers: { 'Content-Length': '0' },
      });
      first = await location(start);
      const res = await call(berth.base, first, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '0-511' },
        body: chunk1,
      });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('range'), '0-511');
      next = await location(res);
    });

    it('retrying the first chunk on the stale location is 416', async () => {
      const res = await call(berth.base, first, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '0-511' },
        body: chunk1,
      });
      await assertOciError(res, 416, 'RANGE_INVALID');
    });

    it('GET on the stale location is 204 with Range 0-511 and a Location', async () => {
      const res = await call(berth.base, first);
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('range'), '0-511');
      next = await location(res);
    });

    it('PATCH of the second chunk is 202 with the whole range', async () => {
      const res = await call(berth.base, next, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `512-${blobB.length - 1}` },
        body: chunk2,
      });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('range'), `0-${blobB.length - 1}`);
      next = await location(res);
    });

    it('PUT with the digest and Content-Length 0 is 201 and the blob is whole', async () => {
      const res = await call(berth.base, withQuery(berth.base, next, { digest: sha256(blobB) }), {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': '0' },
      });
      assert.equal(res.status, 201);
      await location(res);
      const get = await call(berth.base, `/v2/${name}/blobs/${sha256(blobB)}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), blobB);
    });
  });

  describe('cross-repository blob mount', () => {
    it('mounting an unknown digest without from yields a session (202) under the target repository', async () => {
      const res = await call(
        berth.base,
        withQuery(berth.base, `/v2/${crossmount}/blobs/uploads/`, { mount: dummyDigest }),
        { method: 'POST' },
      );
      assert.equal(res.status, 202);
      assert.ok(res.headers.get('location')?.startsWith(`/v2/${crossmount}/blobs/uploads/`));
      await res.arrayBuffer();
    });

    it('automatic cross-mount is off when from is given: mount with from is 201 at the blob URL', async () => {
      const res = await call(
        berth.base,
        withQuery(berth.base, `/v2/${crossmount}/blobs/uploads/`, { mount: sha256(blobA), from: name }),
        {
          method: 'POST',
        },
      );
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/${crossmount}/blobs/${sha256(blobA)}`);
      const get = await call(berth.base, await location(res));
      assert.equal(get.status, 200);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), blobA);
    });

    it('mount with a from repository that lacks the blob yields a session (202), not an error', async () => {
      const res = await call(
        berth.base,
        withQuery(berth.base, `/v2/${crossmount}/blobs/uploads/`, {
          mount: sha256(layer),
          from: uniqueName('empty'),
        }),
        {
          method: 'POST',
        },
      );
      assert.equal(res.status, 202);
      assert.ok(res.headers.get('location')?.startsWith(`/v2/${crossmount}/blobs/uploads/`));
      await res.arrayBuffer();
    });

    it('automatic cross-mount is on: mount without from finds the blob in another repository (201)', async () => {
      const target = uniqueName('conformance/auto');
      const res = await call(
        berth.base,
        withQuery(berth.base, `/v2/${target}/blobs/uploads/`, { mount: sha256(blobB) }),
        { method: 'POST' },
      );
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/${target}/blobs/${sha256(blobB)}`);
      await res.arrayBuffer();
      const get = await call(berth.base, `/v2/${target}/blobs/${sha256(blobB)}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), blobB);
    });
  });

  describe('manifest upload', () => {
    it('GET of a nonexistent manifest is 404', async () => {
      await assertOciError(
        await call(berth.base, `/v2/${name}/manifests/nonexistent`),
        404,
        'MANIFEST_UNKNOWN',
      );
    });

    it('PUT accepts the same manifest under four tags (201 with a Location each)', async () => {
      for (let i = 0; i < 4; i++) {
        const { res } = await putManifest(berth.base, name, `test${i}`, manifest);
        assert.equal(res.status, 201);
        assert.equal(res.headers.get('location'), `/v2/${name}/manifests/${sha256(manifest)}`);
      }
    });

    it('accepts a manifest with no layers', async () => {
      const empty = imageManifest({ config: descriptorOf(ociConfigType, config), layers: [] });
      const { res } = await putManifest(berth.base, name, 'emptylayer', empty);
      assert.equal(res.status, 201);
      assert.ok(res.headers.get('location'));
    });

    it('GET of the manifest by digest is 200', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/${sha256(manifest)}`, {
        headers: { Accept: ociManifestType },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), manifest);
    });

    it('accepts a manifest whose config media type is the artifact type', async () => {
      const artifact = imageManifest({
        config: descriptorOf('application/vnd.example.config.v1+json', refBlob),
        layers: [descriptorOf(ociEmptyType, emptyJson)],
      });
      const { res } = await putManifest(berth.base, name, sha256(artifact), artifact);
      assert.equal(res.status, 201);
    });

    it('accepts a manifest with a custom artifactType and the empty config', async () => {
      const artifact = imageManifest({
        artifactType: 'application/vnd.example.artifact',
        layers: [descriptorOf('application/vnd.example.data', refBlob)],
      });
      const { res } = await putManifest(berth.base, name, sha256(artifact), artifact);
      assert.equal(res.status, 201);
    });

    it('accepts an image index pointing at a pushed manifest', async () => {
      index = imageIndex([descriptorOf(ociManifestType, manifest)], {
        artifactType: 'application/vnd.example.index',
        annotations: { 'org.example.test': 'index' },
      });
      const { res } = await putManifest(berth.base, name, sha256(index), index, ociIndexType);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('docker-content-digest'), sha256(index));
    });

    it('accepts a nested image index', async () => {
      const nested = imageIndex([descriptorOf(ociIndexType, index)], {
        artifactType: 'application/vnd.example.index',
      });
      const { res } = await putManifest(berth.base, name, sha256(nested), nested, ociIndexType);
      assert.equal(res.status, 201);
      const get = await call(berth.base, `/v2/${name}/manifests/${sha256(nested)}`);
      assert.equal(get.headers.get('content-type'), ociIndexType);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), nested);
    });

    it('accepts a dangling subject and answers OCI-Subject with its digest', async () => {
      const subject = { mediaType: ociManifestType, digest: sha256('missing subject'), size: 123 };
      const artifact = imageManifest({
        artifactType: 'application/vnd.example.sig',
        layers: [descriptorOf(ociEmptyType, emptyJson)],
        subject,
      });
      const { res } = await putManifest(berth.base, name, sha256(artifact), artifact);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('oci-subject'), subject.digest);
      assert.match(res.headers.get('oci-subject') ?? '', /^[a-z0-9]+:[a-f0-9]+$/);
    });
  });

  describe('teardown', () => {
    it('deletes the manifest, then the blobs (2xx each)', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/${sha256(manifest)}`, { method: 'DELETE' });
      assert.equal(res.status, 202);
      for (const blob of [config, layer, emptyJson]) {
        const del = await call(berth.base, `/v2/${name}/blobs/${sha256(blob)}`, { method: 'DELETE' });
        assert.equal(del.status, 202);
      }
      const tags = await call(berth.base, `/v2/${name}/tags/list`);
      assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['emptylayer']);
    });
  });
});
