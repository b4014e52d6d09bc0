// The checks of the OCI conformance suite's content-management workflow (distribution-spec v1.1.1
// conformance/04_management_test.go): deleting a tag, a manifest and a blob, and what is left after.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  assertOciError,
  call,
  listTags,
  pushImage,
  uniqueName,
  type PushedImage,
} from '../support/oci-client.js';

describe('conformance: content management', () => {
  let berth: TestBerth;
  const name = uniqueName('conformance/management');
  const tagToDelete = 'tagtest0';
  let image: PushedImage;
  let numTags = 0;

  before(async () => {
    berth = await startTestBerth();
  });
  after(() => berth.dispose());

  describe('setup', () => {
    it('populates the registry with a blob, a manifest and tags', async () => {
      image = await pushImage(berth.base, name, tagToDelete);
      const again = await call(berth.base, `/v2/${name}/manifests/keep`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
        body: image.manifest,
      });
      assert.equal(again.status, 201);
    });

    it('counts the tags before anything is deleted', async () => {
      const { res, tags } = await listTags(berth.base, name);
      assert.equal(res.status, 200);
      assert.deepEqual(tags, ['keep', tagToDelete]);
      numTags = tags.length;
    });
  });

  describe('manifest delete', () => {
    it('DELETE of a tag is 202 and removes only that tag', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/${tagToDelete}`, { method: 'DELETE' });
      assert.equal(res.status, 202);
      await assertOciError(
        await call(berth.base, `/v2/${name}/manifests/${tagToDelete}`),
        404,
        'MANIFEST_UNKNOWN',
      );
      const byDigest = await call(berth.base, `/v2/${name}/manifests/${image.digest}`);
      assert.equal(byDigest.status, 200);
      await byDigest.arrayBuffer();
    });

    it('DELETE of a tag that no longer exists is 404 MANIFEST_UNKNOWN', async () => {
      await assertOciError(
        await call(berth.base, `/v2/${name}/manifests/${tagToDelete}`, { method: 'DELETE' }),
        404,
        'MANIFEST_UNKNOWN',
      );
    });

    it('DELETE of the manifest by digest is 202', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/${image.digest}`, { method: 'DELETE' });
      assert.equal(res.status, 202);
    });

    it('GET of the deleted manifest is 404, by digest and by its remaining tag', async () => {
      await assertOciError(
        await call(berth.base, `/v2/${name}/manifests/${image.digest}`),
        404,
        'MANIFEST_UNKNOWN',
      );
      await assertOciError(await call(berth.base, `/v2/${name}/manifests/keep`), 404, 'MANIFEST_UNKNOWN');
    });

    it('the tag list reflects the deletion', async () => {
      const { res, tags } = await listTags(berth.base, name);
      assert.equal(res.status, 200);
      assert.ok(tags.length < numTags);
      assert.deepEqual(tags, []);
    });

    it('DELETE of the manifest again is 404 MANIFEST_UNKNOWN', async () => {
      await assertOciError(
        await call(berth.base, `/v2/${name}/manifests/${image.digest}`, { method: 'DELETE' }),
        404,
        'MANIFEST_UNKNOWN',
      );
    });
  });

  describe('blob delete', () => {
    it('DELETE of a blob is 202', async () => {
      const del = await call(berth.base, `/v2/${name}/blobs/${configDigest()}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
    });

    it('GET of the deleted blob is 404 BLOB_UNKNOWN, and a second DELETE is 404', async () => {
      await assertOciError(
        await call(berth.base, `/v2/${name}/blobs/${configDigest()}`),
        404,
        'BLOB_UNKNOWN',
      );
      await assertOciError(
        await call(berth.base, `/v2/${name}/blobs/${configDigest()}`, { method: 'DELETE' }),
        404,
        'BLOB_UNKNOWN',
      );
    });

    it('deleting a blob from one repository leaves it in another', async () => {
      const other = uniqueName('conformance/other');
      const pushed = await pushImage(berth.base, other, 'v1');
      const del = await call(berth.base, `/v2/${other}/blobs/${layerDigest(pushed)}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      const mount = await call(
        berth.base,
        `/v2/${name}/blobs/uploads/?mount=${layerDigest(pushed)}&from=${other}`,
        { method: 'POST' },
      );
      assert.equal(mount.status, 202, 'a deleted link cannot be mounted from');
      await mount.arrayBuffer();
    });
  });

  function configDigest(): string {
    return (JSON.parse(image.manifest.toString()) as { config: { digest: string } }).config.digest;
  }
  function layerDigest(pushed: PushedImage): string {
    return (JSON.parse(pushed.manifest.toString()) as { layers: { digest: string }[] }).layers[0]!.digest;
  }
});
