// Manifest validation: malformed and invalid bodies, references to missing blobs and child manifests,
// dangling subjects, invalid tags and digests in the URL that do not match (or are not) digests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  assertOciError,
  call,
  checkErrorBody,
  descriptorOf,
  emptyJson,
  imageIndex,
  imageManifest,
  ociConfigType,
  ociEmptyType,
  ociIndexType,
  ociLayerType,
  ociManifestType,
  pushBlob,
  pushImage,
  pushManifest,
  putManifest,
  sha256,
  uniqueName,
  type PushedImage,
} from '../support/oci-client.js';

describe('manifest validation', () => {
  let berth: TestBerth;
  const name = uniqueName('manifest-validation');
  let image: PushedImage;

  before(async () => {
    berth = await startTestBerth();
    image = await pushImage(berth.base, name, 'v1');
    await pushBlob(berth.base, name, emptyJson);
  });
  after(() => berth.dispose());

  /** A manifest over the image's blobs, made unique (and as large as needed) with an annotation. */
  const variant = (label: string, extra: Parameters<typeof imageManifest>[0] = {}): Buffer => {
    const parsed = JSON.parse(image.manifest.toString()) as { config: never; layers: never[] };
    return imageManifest({ config: parsed.config, layers: parsed.layers, annotations: { label }, ...extra });
  };
  const expectNoManifest = async (reference: string) => {
    const res = await call(berth.base, `/v2/${name}/manifests/${reference}`);
    assert.equal(res.status, 404);
    await res.arrayBuffer();
  };

  describe('validation', () => {
    it('malformed JSON is 400 MANIFEST_INVALID and nothing is stored', async () => {
      for (const body of ['{"schemaVersion": 2,', 'null', '[]', '"text"', '']) {
        const { res, body: text } = await putManifest(berth.base, name, 'broken', Buffer.from(body));
        assert.equal(res.status, 400, body);
        checkErrorBody(
          res.headers.get('content-type'),
          text,
          'MANIFEST_INVALID',
          res.headers.get('docker-distribution-api-version'),
        );
      }
      await expectNoManifest('broken');
    });

    it('a schema 1 manifest, a wrong schemaVersion or a bad descriptor is 400 MANIFEST_INVALID', async () => {
      const bad = [
        { schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] },
        {
          schemaVersion: 3,
          mediaType: ociManifestType,
          config: descriptorOf(ociEmptyType, emptyJson),
          layers: [],
        },
        {
          schemaVersion: 2,
          mediaType: ociManifestType,
          config: { ...descriptorOf(ociEmptyType, emptyJson), size: -1 },
          layers: [],
        },
        {
          schemaVersion: 2,
          mediaType: ociManifestType,
          config: { ...descriptorOf(ociEmptyType, emptyJson), digest: 'sha256:nothex' },
          layers: [],
        },
        {
          schemaVersion: 2,
          mediaType: ociManifestType,
          config: descriptorOf(ociEmptyType, emptyJson),
          layers: 'none',
        },
        {
          schemaVersion: 2,
          mediaType: ociManifestType,
          config: descriptorOf(ociEmptyType, emptyJson),
          layers: [],
          annotations: { n: 1 },
        },
        {
          schemaVersion: 2,
          mediaType: ociManifestType,
          config: { ...descriptorOf(ociEmptyType, emptyJson), data: Buffer.from('{ }').toString('base64') },
          layers: [],
        },
      ];
      for (const body of bad) {
        const { res, body: text } = await putManifest(
          berth.base,
          name,
          'bad',
          Buffer.from(JSON.stringify(body)),
        );
        assert.equal(res.status, 400, JSON.stringify(body));
        checkErrorBody(
          res.headers.get('content-type'),
          text,
          'MANIFEST_INVALID',
          res.headers.get('docker-distribution-api-version'),
        );
      }
      await expectNoManifest('bad');
    });

    it('a mediaType that contradicts Content-Type is 400 MANIFEST_INVALID', async () => {
      const { res, body } = await putManifest(
        berth.base,
        name,
        'contradiction',
        variant('contradiction'),
        ociIndexType,
      );
      assert.equal(res.status, 400);
      checkErrorBody(
        res.headers.get('content-type'),
        body,
        'MANIFEST_INVALID',
        res.headers.get('docker-distribution-api-version'),
      );
    });

    it('a descriptor whose data matches its digest is accepted', async () => {
      const bytes = imageManifest({
        config: { ...descriptorOf(ociEmptyType, emptyJson), data: emptyJson.toString('base64') },
      });
      await pushManifest(berth.base, name, 'with-data', bytes);
    });

    it('a missing layer or config is 400 MANIFEST_BLOB_UNKNOWN and nothing is stored', async () => {
      const missing = descriptorOf(ociLayerType, Buffer.from('never uploaded'));
      for (const bytes of [
        imageManifest({ config: descriptorOf(ociEmptyType, emptyJson), layers: [missing] }),
        imageManifest({ config: descriptorOf(ociConfigType, Buffer.from('{"missing":true}')) }),
      ]) {
        const { res, body } = await putManifest(berth.base, name, 'missing-blob', bytes);
        assert.equal(res.status, 400);
        checkErrorBody(
          res.headers.get('content-type'),
          body,
          'MANIFEST_BLOB_UNKNOWN',
          res.headers.get('docker-distribution-api-version'),
        );
        await expectNoManifest(sha256(bytes));
      }
      await expectNoManifest('missing-blob');
    });

    it('a foreign layer with urls need not be in the registry', async () => {
      const foreign = descriptorOf(
        'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
        Buffer.from('elsewhere'),
        { urls: ['https://example.com/layer'] },
      );
      await pushManifest(berth.base, name, 'foreign', imageManifest({ layers: [foreign] }));
    });

    it('an index whose child manifest is missing is 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const index = imageIndex([
        image.descriptor,
        { mediaType: ociManifestType, digest: sha256('absent child'), size: 10 },
      ]);
      const { res, body } = await putManifest(berth.base, name, 'missing-child', index, ociIndexType);
      assert.equal(res.status, 400);
      checkErrorBody(
        res.headers.get('content-type'),
        body,
        'MANIFEST_BLOB_UNKNOWN',
        res.headers.get('docker-distribution-api-version'),
      );
      await expectNoManifest('missing-child');
    });

    it('a subject that does not exist is accepted, with OCI-Subject', async () => {
      const subject = { mediaType: ociManifestType, digest: sha256('no such subject'), size: 42 };
      const bytes = imageManifest({
        artifactType: 'application/vnd.example.sbom',
        subject,
        layers: [descriptorOf(ociEmptyType, emptyJson)],
      });
      const { res } = await putManifest(berth.base, name, sha256(bytes), bytes);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('oci-subject'), subject.digest);
    });

    it('an invalid tag is 400 TAG_INVALID', async () => {
      const { res, body } = await putManifest(berth.base, name, '-leading-dash', variant('tag'));
      assert.equal(res.status, 400);
      checkErrorBody(
        res.headers.get('content-type'),
        body,
        'TAG_INVALID',
        res.headers.get('docker-distribution-api-version'),
      );
      const long = await putManifest(berth.base, name, 'a'.repeat(129), variant('tag'));
      assert.equal(long.res.status, 400);
    });
  });

  describe('digests in the URL', () => {
    it('PUT by a digest that does not match the body is 400 DIGEST_INVALID and nothing is stored', async () => {
      const bytes = variant('wrong-digest');
      const { res, body } = await putManifest(berth.base, name, sha256('other bytes'), bytes);
      assert.equal(res.status, 400);
      checkErrorBody(
        res.headers.get('content-type'),
        body,
        'DIGEST_INVALID',
        res.headers.get('docker-distribution-api-version'),
      );
      await expectNoManifest(sha256(bytes));
      await expectNoManifest(sha256('other bytes'));
    });

    it('PUT manifests/sha256:baddigeststring is 400 with a spec code', async () => {
      const { res, body } = await putManifest(
        berth.base,
        name,
        'sha256:baddigeststring',
        variant('bad-digest'),
      );
      assert.equal(res.status, 400);
      checkErrorBody(
        res.headers.get('content-type'),
        body,
        'DIGEST_INVALID',
        res.headers.get('docker-distribution-api-version'),
      );
    });

    it('GET and HEAD manifests/sha256:baddigeststring are 400 or 404, never 500', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/sha256:baddigeststring`);
      assert.ok(res.status === 400 || res.status === 404, String(res.status));
      await assertOciError(res, res.status);
      const head = await call(berth.base, `/v2/${name}/manifests/sha256:baddigeststring`, { method: 'HEAD' });
      assert.ok(head.status === 400 || head.status === 404, String(head.status));
    });
  });
});
