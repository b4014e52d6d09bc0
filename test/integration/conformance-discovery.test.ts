// The checks of the OCI conformance suite's content-discovery workflow (distribution-spec v1.1.1
// conformance/03_discovery_test.go): tag listing with n and last, and the referrers API with and
// without an artifactType filter, including referrers of a manifest that was never pushed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  call,
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
  putManifest,
  randomBlob,
  sha256,
  uniqueName,
  type Descriptor,
} from '../support/oci-client.js';

interface Index {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
}

describe('conformance: content discovery', () => {
  let berth: TestBerth;
  const name = uniqueName('conformance/discovery');
  const annotationKey = 'org.opencontainers.conformance.test';
  const typeA = 'application/vnd.oci.conformance.a';
  const typeB = 'application/vnd.oci.conformance.b';
  const typeIndex = 'application/vnd.oci.conformance.index';
  const configs = [2, 4].map((i) =>
    Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, i }),
    ),
  );
  const layer = randomBlob(700);
  const refBlobA = randomBlob(40);
  const refBlobB = randomBlob(41);
  const [taggedManifest, subjectManifest] = configs.map((c) =>
    imageManifest({ config: descriptorOf(ociConfigType, c), layers: [descriptorOf(ociLayerType, layer)] }),
  ) as [Buffer, Buffer];
  const subject = descriptorOf(ociManifestType, subjectManifest);
  const missingSubject: Descriptor = {
    mediaType: ociManifestType,
    digest: sha256('manifest that is never pushed'),
    size: 321,
  };
  const expectedAnnotation = new Map<string, string>();
  const referrer = (label: string, input: Parameters<typeof imageManifest>[0]): Buffer => {
    const bytes = imageManifest({ ...input, annotations: { [annotationKey]: label } });
    expectedAnnotation.set(sha256(bytes), label);
    return bytes;
  };
  const aConfig = referrer('A config', {
    config: descriptorOf(typeA, emptyJson),
    layers: [descriptorOf(ociEmptyType, emptyJson)],
    subject,
  });
  const aLayer = referrer('A layer', {
    artifactType: typeA,
    layers: [descriptorOf('application/vnd.example.data', refBlobA)],
    subject,
  });
  const bConfig = referrer('B config', {
    config: descriptorOf(typeB, emptyJson),
    layers: [descriptorOf(ociEmptyType, emptyJson)],
    subject,
  });
  const bLayer = referrer('B layer', {
    artifactType: typeB,
    layers: [descriptorOf('application/vnd.example.data', refBlobB)],
    subject,
  });
  const cLayer = referrer('C layer', {
    artifactType: typeA,
    layers: [descriptorOf('application/vnd.example.data', refBlobA)],
    subject: missingSubject,
  });
  let index: Buffer;
  let tagList: string[] = [];

  before(async () => {
    berth = await startTestBerth();
  });
  after(() => berth.dispose());

  const put = async (reference: string, bytes: Buffer, type = ociManifestType): Promise<Response> => {
    const { res, body } = await putManifest(berth.base, name, reference, bytes, type);
    assert.equal(res.status, 201, body);
    return res;
  };

  const referrers = async (digest: string, query = ''): Promise<{ res: Response; index: Index }> => {
    const res = await call(berth.base, `/v2/${name}/referrers/${digest}${query}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), ociIndexType);
    return { res, index: (await res.json()) as Index };
  };

  describe('setup', () => {
    it('populates the registry with a config, a layer and four tags', async () => {
      await pushBlob(berth.base, name, configs[0]!);
      await pushBlob(berth.base, name, layer);
      for (let i = 0; i < 4; i++) await put(`test${i}`, taggedManifest);
      const res = await call(berth.base, `/v2/${name}/tags/list`);
      tagList = ((await res.json()) as { tags: string[] }).tags;
      assert.deepEqual(tagList, ['test0', 'test1', 'test2', 'test3']);
    });

    it('pushes referrers before and after their subject; each PUT answers OCI-Subject', async () => {
      await pushBlob(berth.base, name, emptyJson);
      await pushBlob(berth.base, name, refBlobA);
      for (const bytes of [aConfig, aLayer]) {
        assert.equal((await put(sha256(bytes), bytes)).headers.get('oci-subject'), subject.digest);
      }
      index = imageIndex([descriptorOf(ociManifestType, aConfig)], {
        artifactType: typeIndex,
        subject,
        annotations: { [annotationKey]: 'index' },
      });
      expectedAnnotation.set(sha256(index), 'index');
      assert.equal(
        (await put(sha256(index), index, ociIndexType)).headers.get('oci-subject'),
        subject.digest,
      );

      await pushBlob(berth.base, name, configs[1]!);
      await put('tagtest0', subjectManifest);
      await pushBlob(berth.base, name, refBlobB);
      for (const bytes of [bConfig, bLayer]) {
        assert.equal((await put(sha256(bytes), bytes)).headers.get('oci-subject'), subject.digest);
      }
      assert.equal((await put(sha256(cLayer), cLayer)).headers.get('oci-subject'), missingSubject.digest);
    });
  });

  describe('listing tags', () => {
    let numTags = 0;
    it('GET tags/list is 200 with every tag', async () => {
      const res = await call(berth.base, `/v2/${name}/tags/list`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { name: string; tags: string[] };
      assert.equal(body.name, name);
      tagList = body.tags;
      numTags = tagList.length;
      assert.deepEqual(tagList, ['tagtest0', 'test0', 'test1', 'test2', 'test3']);
    });

    it('n limits the number of tags', async () => {
      const n = Math.floor(numTags / 2);
      const res = await call(berth.base, `/v2/${name}/tags/list?n=${n}`);
      assert.equal(res.status, 200);
      const tags = ((await res.json()) as { tags: string[] }).tags;
      assert.equal(tags.length, n);
    });

    it('last sets where the list starts (exclusive)', async () => {
      const n = Math.floor(numTags / 2);
      const first = (
        (await (await call(berth.base, `/v2/${name}/tags/list?n=${n}`)).json()) as { tags: string[] }
      ).tags;
      const last = first[n - 1]!;
      const res = await call(berth.base, `/v2/${name}/tags/list?n=${n}&last=${last}`);
      assert.equal(res.status, 200);
      const tags = ((await res.json()) as { tags: string[] }).tags;
      assert.ok(tags.length <= n);
      assert.ok(!tags.includes(last));
      assert.deepEqual(tags, tagList.slice(n, 2 * n));
    });
  });

  describe('listing referrers', () => {
    it('referrers of an unknown digest is an empty index (200)', async () => {
      const { index: body } = await referrers(sha256('nothing refers to this'));
      assert.equal(body.schemaVersion, 2);
      assert.equal(body.mediaType, ociIndexType);
      assert.deepEqual(body.manifests, []);
    });

    it('referrers of the subject lists all five, each with its annotation', async () => {
      const { index: body, res } = await referrers(subject.digest);
      assert.equal(res.headers.get('oci-filters-applied'), null);
      assert.equal(body.manifests.length, 5);
      assert.equal(new Set(body.manifests.map((m) => m.digest)).size, 5);
      for (const m of body.manifests) {
        assert.deepEqual(m.annotations, { [annotationKey]: expectedAnnotation.get(m.digest) });
      }
      const byLabel = new Map(body.manifests.map((m) => [m.annotations?.[annotationKey], m]));
      assert.deepEqual(byLabel.get('A config'), {
        mediaType: ociManifestType,
        digest: sha256(aConfig),
        size: aConfig.length,
        artifactType: typeA,
        annotations: { [annotationKey]: 'A config' },
      });
      assert.equal(byLabel.get('A layer')?.artifactType, typeA);
      assert.equal(byLabel.get('B config')?.artifactType, typeB);
      assert.equal(byLabel.get('index')?.mediaType, ociIndexType);
      assert.equal(byLabel.get('index')?.artifactType, typeIndex);
    });

    it('an artifactType filter returns the two matches and says so in OCI-Filters-Applied', async () => {
      const { index: body, res } = await referrers(
        subject.digest,
        `?artifactType=${encodeURIComponent(typeA)}`,
      );
      assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
      assert.deepEqual(body.manifests.map((m) => m.digest).sort(), [sha256(aConfig), sha256(aLayer)].sort());
      for (const m of body.manifests)
        assert.deepEqual(m.annotations, { [annotationKey]: expectedAnnotation.get(m.digest) });
    });

    it('referrers of a manifest that was never pushed lists the dangling referrer', async () => {
      const { index: body } = await referrers(missingSubject.digest);
      assert.deepEqual(
        body.manifests.map((m) => m.digest),
        [sha256(cLayer)],
      );
    });
  });

  describe('teardown', () => {
    it('deletes every manifest (202, or 404 once gone) and the blobs', async () => {
      for (const digest of [
        sha256(index),
        sha256(taggedManifest),
        subject.digest,
        ...[aConfig, aLayer, bConfig, bLayer, cLayer].map((b) => sha256(b)),
      ]) {
        const res = await call(berth.base, `/v2/${name}/manifests/${digest}`, { method: 'DELETE' });
        assert.ok(res.status === 202 || res.status === 404, `delete ${digest}: ${res.status}`);
        await res.arrayBuffer();
      }
      const { index: after } = await referrers(subject.digest);
      assert.deepEqual(after.manifests, []);
      for (const blob of [...configs, layer, refBlobA, refBlobB, emptyJson]) {
        const res = await call(berth.base, `/v2/${name}/blobs/${sha256(blob)}`, { method: 'DELETE' });
        assert.equal(res.status, 202);
      }
      const tags = ((await (await call(berth.base, `/v2/${name}/tags/list`)).json()) as { tags: string[] })
        .tags;
      assert.deepEqual(tags, []);
    });
  });
});
