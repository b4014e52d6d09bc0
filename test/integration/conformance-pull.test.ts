// The checks of the OCI conformance suite's pull workflow (distribution-spec v1.1.1
// conformance/01_pull_test.go), run in its order against one Berth, with tighter assertions where the
// suite leaves a choice that Berth has made.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  assertOciError,
  call,
  descriptorOf,
  imageManifest,
  ociConfigType,
  ociLayerType,
  ociManifestType,
  pushBlob,
  pushManifest,
  randomBlob,
  sha256,
  uniqueName,
} from '../support/oci-client.js';

describe('conformance: pull', () => {
  let berth: TestBerth;
  const name = uniqueName('conformance/pull');
  const tag = 'tagtest0';
  const configs = [0, 1].map((i) =>
    Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, i }),
    ),
  );
  const layer = randomBlob(1024);
  const manifests = configs.map((config) =>
    imageManifest({
      config: descriptorOf(ociConfigType, config),
      layers: [descriptorOf(ociLayerType, layer)],
    }),
  );
  const manifestDigests = manifests.map((m) => sha256(m));
  const dummyDigest = sha256('no such content');
  const nonexistentTag = 'nonexistent';

  before(async () => {
    berth = await startTestBerth();
  });
  after(() => berth.dispose());

  describe('setup', () => {
    it('populates the registry with two config blobs and a layer', async () => {
      for (const blob of [...configs, layer]) await pushBlob(berth.base, name, blob);
    });

    it('populates the registry with manifest[0] by tag and manifest[1] by digest', async () => {
      assert.equal(await pushManifest(berth.base, name, tag, manifests[0]!), manifestDigests[0]);
      assert.equal(
        await pushManifest(berth.base, name, manifestDigests[1]!, manifests[1]!),
        manifestDigests[1],
      );
    });
  });

  describe('pull blobs', () => {
    it('HEAD of a nonexistent blob is 404 with an empty body', async () => {
      const res = await call(berth.base, `/v2/${name}/blobs/${dummyDigest}`, { method: 'HEAD' });
      assert.equal(res.status, 404);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    it('HEAD of an existing blob is 200 with its digest and length', async () => {
      const res = await call(berth.base, `/v2/${name}/blobs/${sha256(configs[0]!)}`, { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), sha256(configs[0]!));
      assert.equal(res.headers.get('content-length'), String(configs[0]!.length));
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    it('GET of a nonexistent blob is 404 BLOB_UNKNOWN', async () => {
      await assertOciError(await call(berth.base, `/v2/${name}/blobs/${dummyDigest}`), 404, 'BLOB_UNKNOWN');
    });

    it('GET of an existing blob is 200 with its exact bytes', async () => {
      const res = await call(berth.base, `/v2/${name}/blobs/${sha256(configs[0]!)}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), sha256(configs[0]!));
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), configs[0]);
    });
  });

  describe('pull manifests', () => {
    it('HEAD of a nonexistent manifest is 404', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/${nonexistentTag}`, { method: 'HEAD' });
      assert.equal(res.status, 404);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    for (const i of [0, 1]) {
      it(`HEAD of manifest[${i}] by digest is 200 with digest, type and length`, async () => {
        const res = await call(berth.base, `/v2/${name}/manifests/${manifestDigests[i]}`, {
          method: 'HEAD',
          headers: { Accept: ociManifestType },
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('docker-content-digest'), manifestDigests[i]);
        assert.equal(res.headers.get('content-type'), ociManifestType);
        assert.equal(res.headers.get('content-length'), String(manifests[i]!.length));
        assert.equal((await res.arrayBuffer()).byteLength, 0);
      });
    }

    it('HEAD of the manifest by tag is 200 with the digest of manifest[0]', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/${tag}`, {
        method: 'HEAD',
        headers: { Accept: ociManifestType },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), manifestDigests[0]);
      await res.arrayBuffer();
    });

    it('GET of a nonexistent manifest is 404 MANIFEST_UNKNOWN', async () => {
      await assertOciError(
        await call(berth.base, `/v2/${name}/manifests/${nonexistentTag}`),
        404,
        'MANIFEST_UNKNOWN',
      );
    });

    for (const i of [0, 1]) {
      it(`GET of manifest[${i}] by digest is 200 with the exact bytes pushed`, async () => {
        const res = await call(berth.base, `/v2/${name}/manifests/${manifestDigests[i]}`, {
          headers: { Accept: ociManifestType },
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), ociManifestType);
        assert.equal(res.headers.get('docker-content-digest'), manifestDigests[i]);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), manifests[i]);
      });
    }

    it('GET of the manifest by tag is 200 with manifest[0]', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/${tag}`, {
        headers: { Accept: ociManifestType },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), manifests[0]);
    });
  });

  describe('error codes', () => {
    it('GET manifests/sha256:totallywrong is 400 (or 404) with an OCI JSON error body', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/sha256:totallywrong`);
      assert.ok(res.status === 400 || res.status === 404, `status ${res.status}`);
      await assertOciError(res, res.status);
    });

    it('PUT manifests/sha256:totallywrong is 400 with an OCI JSON error body', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/sha256:totallywrong`, {
        method: 'PUT',
        headers: { 'Content-Type': ociManifestType },
        body: '{"schemaVersion": 2, "invalid": true}',
      });
      await assertOciError(res, 400, 'DIGEST_INVALID');
    });
  });

  describe('teardown', () => {
    it('deletes both manifests (202) and they are gone', async () => {
      for (const digest of manifestDigests) {
        const res = await call(berth.base, `/v2/${name}/manifests/${digest}`, { method: 'DELETE' });
        assert.equal(res.status, 202);
        await res.arrayBuffer();
        await assertOciError(
          await call(berth.base, `/v2/${name}/manifests/${digest}`),
          404,
          'MANIFEST_UNKNOWN',
        );
      }
      await assertOciError(await call(berth.base, `/v2/${name}/manifests/${tag}`), 404, 'MANIFEST_UNKNOWN');
    });

    it('deletes the config blobs and the layer (202) and they are gone', async () => {
      for (const blob of [...configs, layer]) {
        const res = await call(berth.base, `/v2/${name}/blobs/${sha256(blob)}`, { method: 'DELETE' });
        assert.equal(res.status, 202);
        await res.arrayBuffer();
        await assertOciError(
          await call(berth.base, `/v2/${name}/blobs/${sha256(blob)}`),
          404,
          'BLOB_UNKNOWN',
        );
      }
    });
  });
});
