// The referrers API: the exact index it returns, the artifactType filter and its header, scoping to a
// repository, and how pushes and deletes change the list.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  assertOciError,
  call,
  descriptorOf,
  emptyJson,
  imageIndex,
  imageManifest,
  ociEmptyType,
  ociIndexType,
  ociManifestType,
  pushBlob,
  pushImage,
  pushManifest,
  sha256,
  uniqueName,
  type Descriptor,
  type PushedImage,
} from '../support/oci-client.js';

interface ReferrersIndex {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
}

describe('referrers', () => {
  let berth: TestBerth;
  const name = uniqueName('referrers');
  const sbomType = 'application/vnd.example.sbom.v1';
  const sigType = 'application/vnd.example.signature.v1';
  const configTyped = 'application/vnd.example.config.v1+json';
  let subject: PushedImage;
  let sbom: Buffer;
  let signature: Buffer;
  let configArtifact: Buffer;
  let index: Buffer;
  let bareIndex: Buffer;

  before(async () => {
    berth = await startTestBerth();
    subject = await pushImage(berth.base, name, 'v1');
    await pushBlob(berth.base, name, emptyJson);
    const layers = [descriptorOf(ociEmptyType, emptyJson)];
    sbom = imageManifest({
      artifactType: sbomType,
      layers,
      subject: subject.descriptor,
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', kind: 'sbom' },
    });
    signature = imageManifest({ artifactType: sigType, layers, subject: subject.descriptor });
    configArtifact = imageManifest({
      config: descriptorOf(configTyped, emptyJson),
      layers,
      subject: subject.descriptor,
      annotations: { kind: 'config' },
    });
    for (const bytes of [sbom, signature, configArtifact])
      await pushManifest(berth.base, name, sha256(bytes), bytes);
    index = imageIndex([subject.descriptor], {
      artifactType: sbomType,
      subject: subject.descriptor,
      annotations: { kind: 'index' },
    });
    bareIndex = imageIndex([], { subject: subject.descriptor });
    await pushManifest(berth.base, name, sha256(index), index, ociIndexType);
    await pushManifest(berth.base, name, 'bare-index', bareIndex, ociIndexType);
  });
  after(() => berth.dispose());

  const referrers = async (
    digest: string,
    query = '',
    repo = name,
  ): Promise<{ res: Response; body: ReferrersIndex; raw: Buffer }> => {
    const res = await call(berth.base, `/v2/${repo}/referrers/${digest}${query}`);
    assert.equal(res.status, 200);
    const raw = Buffer.from(await res.arrayBuffer());
    return { res, body: JSON.parse(raw.toString()) as ReferrersIndex, raw };
  };
  const byDigest = (body: ReferrersIndex) => new Map(body.manifests.map((m) => [m.digest, m]));

  it('answers an image index with exactly Content-Type application/vnd.oci.image.index.v1+json', async () => {
    const { res, body, raw } = await referrers(subject.digest);
    assert.equal(res.headers.get('content-type'), ociIndexType);
    assert.equal(res.headers.get('content-length'), String(raw.length));
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.equal(res.headers.get('oci-filters-applied'), null);
    assert.equal(body.schemaVersion, 2);
    assert.equal(body.mediaType, ociIndexType);
    assert.equal(body.manifests.length, 5);
  });

  it('each descriptor carries mediaType, digest, size, artifactType and the annotations', async () => {
    const found = byDigest((await referrers(subject.digest)).body);
    assert.deepEqual(found.get(sha256(sbom)), {
      mediaType: ociManifestType,
      digest: sha256(sbom),
      size: sbom.length,
      artifactType: sbomType,
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', kind: 'sbom' },
    });
    assert.deepEqual(found.get(sha256(signature)), {
      mediaType: ociManifestType,
      digest: sha256(signature),
      size: signature.length,
      artifactType: sigType,
    });
  });

  it('without artifactType a manifest reports its config media type', async () => {
    const found = byDigest((await referrers(subject.digest)).body);
    assert.equal(found.get(sha256(configArtifact))?.artifactType, configTyped);
    assert.deepEqual(found.get(sha256(configArtifact))?.annotations, { kind: 'config' });
  });

  it('indexes are listed with the index media type and their own artifactType, if any', async () => {
    const found = byDigest((await referrers(subject.digest)).body);
    assert.deepEqual(found.get(sha256(index)), {
      mediaType: ociIndexType,
      digest: sha256(index),
      size: index.length,
      artifactType: sbomType,
      annotations: { kind: 'index' },
    });
    assert.deepEqual(found.get(sha256(bareIndex)), {
      mediaType: ociIndexType,
      digest: sha256(bareIndex),
      size: bareIndex.length,
    });
  });

  it('?artifactType= filters and sets OCI-Filters-Applied: artifactType', async () => {
    const { res, body } = await referrers(subject.digest, `?artifactType=${encodeURIComponent(sbomType)}`);
    assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
    assert.equal(res.headers.get('content-type'), ociIndexType);
    assert.deepEqual(body.manifests.map((m) => m.digest).sort(), [sha256(sbom), sha256(index)].sort());
  });

  it('a filter that matches nothing is an empty list, still with OCI-Filters-Applied', async () => {
    const { res, body } = await referrers(subject.digest, '?artifactType=application%2Fvnd.example.none');
    assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(body.manifests, []);
  });

  it('an unknown digest in a known repository is an empty index', async () => {
    const { body, res } = await referrers(sha256('unrelated'));
    assert.equal(res.headers.get('content-type'), ociIndexType);
    assert.deepEqual(body, { schemaVersion: 2, mediaType: ociIndexType, manifests: [] });
  });

  it('referrers are scoped to their repository', async () => {
    const other = uniqueName('referrers-other');
    await pushBlob(berth.base, other, emptyJson);
    assert.deepEqual((await referrers(subject.digest, '', other)).body.manifests, []);
  });

  it('an unknown repository is 404 NAME_UNKNOWN; a malformed digest is 400 DIGEST_INVALID', async () => {
    await assertOciError(
      await call(berth.base, `/v2/${uniqueName('nowhere')}/referrers/${subject.digest}`),
      404,
      'NAME_UNKNOWN',
    );
    await assertOciError(await call(berth.base, `/v2/${name}/referrers/sha256:nope`), 400, 'DIGEST_INVALID');
    await assertOciError(await call(berth.base, `/v2/${name}/referrers/v1`), 400, 'DIGEST_INVALID');
    await assertOciError(
      await call(berth.base, `/v2/${name}/referrers/${subject.digest}`, { method: 'DELETE' }),
      405,
      'UNSUPPORTED',
    );
  });

  it('a referrer whose subject is pushed later is listed for it', async () => {
    const later = imageManifest({ annotations: { kind: 'future-subject' } });
    const laterDigest = sha256(later);
    const ref = imageManifest({
      artifactType: sigType,
      subject: descriptorOf(ociManifestType, later),
      layers: [descriptorOf(ociEmptyType, emptyJson)],
    });
    await pushManifest(berth.base, name, sha256(ref), ref);
    assert.deepEqual(
      (await referrers(laterDigest)).body.manifests.map((m) => m.digest),
      [sha256(ref)],
    );
    await pushManifest(berth.base, name, 'later', later);
    assert.deepEqual(
      (await referrers(laterDigest)).body.manifests.map((m) => m.digest),
      [sha256(ref)],
    );
  });

  it('deleting a referrer removes it from the list', async () => {
    assert.equal(
      (await call(berth.base, `/v2/${name}/manifests/${sha256(signature)}`, { method: 'DELETE' })).status,
      202,
    );
    const found = byDigest((await referrers(subject.digest)).body);
    assert.equal(found.has(sha256(signature)), false);
    assert.equal(found.size, 4);
  });
});
