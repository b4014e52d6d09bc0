// Scenario 5: `skopeo copy` between two repositories of the same Berth mounts the layers
// (POST /blobs/uploads/?mount=&from= answered 201) instead of uploading them again.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildScratchImage, requireClients } from '../support/clients.js';
import { sharedSetup } from '../support/setup.js';
import { fetchManifest, headBlob, startE2E, type E2E, type RecordedRequest } from './registry.js';

describe('e2e: skopeo copy between repositories uses cross-repository mount', () => {
  let e2e: E2E;
  const source = 'mount/source';
  const target = 'mount/target';

  const ready = sharedSetup(async () => {
    await requireClients(['buildah', 'skopeo']);
    e2e = await startE2E();
    const image = await buildScratchImage(e2e.sandbox, {
      name: 'localhost/e2e/mount:1',
      layers: [{ '/one.txt': 'first layer\n' }, { '/two.txt': 'second layer\n' }],
    });
    // skopeo pushes the source itself, so its blob-info cache knows the layers live in `source`: that
    // cache is where containers/image finds mount candidates.
    await e2e.sandbox.run('buildah', [
      'push',
      '--quiet',
      '--tls-verify=false',
      '--format',
      'v2s2',
      image.name,
      e2e.docker(`${source}:staging`),
    ]);
    await e2e.sandbox.run('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      e2e.docker(`${source}:staging`),
      e2e.docker(`${source}:1`),
    ]);
  });
  after(() => e2e?.dispose());

  it('mounts every layer (201) and uploads no layer bytes to the target', async () => {
    await ready();
    const manifest = (await fetchManifest(e2e.berth.base, source, '1')).body!;
    const layers = manifest.layers!.map((l) => l.digest);
    assert.equal(layers.length, 2);

    const first = e2e.requests.length;
    const logFirst = e2e.log.length;
    await e2e.sandbox.run('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      e2e.docker(`${source}:1`),
      e2e.docker(`${target}:1`),
    ]);
    const during = e2e.requests.slice(first);
    const toTarget = (r: RecordedRequest) => r.url.pathname.startsWith(`/v2/${target}/blobs/uploads`);

    const mounts = during.filter(
      (r) => r.method === 'POST' && toTarget(r) && r.url.searchParams.has('mount'),
    );
    for (const layer of layers) {
      const mount = mounts.find((r) => r.url.searchParams.get('mount') === layer);
      assert.ok(mount, `skopeo asked to mount ${layer}; requests:\n${listRequests(during)}`);
      assert.equal(mount.status, 201, `Berth mounted ${layer} instead of opening an upload session`);
      assert.equal(mount.url.searchParams.get('from'), source);
    }

    // No layer was uploaded: no upload session was completed with a layer's digest, and no layer was read
    // from the source repository.
    const finished = during
      .filter((r) => r.method === 'PUT' && toTarget(r))
      .map((r) => r.url.searchParams.get('digest'));
    for (const layer of layers) {
      assert.ok(!finished.includes(layer), `${layer} was uploaded again:\n${listRequests(during)}`);
      assert.ok(
        !during.some((r) => r.method === 'GET' && r.url.pathname === `/v2/${source}/blobs/${layer}`),
        `${layer} was downloaded from the source`,
      );
    }

    // Berth's own request log agrees: a 201 POST to the target's uploads for each mount.
    const logged = e2e.log
      .slice(logFirst)
      .filter((l) => l.msg === 'request' && l.method === 'POST' && l.path === `/v2/${target}/blobs/uploads/`);
    assert.ok(logged.filter((l) => l.status === 201).length >= layers.length, JSON.stringify(logged));

    // The copy is complete and pullable from the target.
    const copied = await fetchManifest(e2e.berth.base, target, '1');
    assert.equal(copied.status, 200);
    assert.deepEqual(copied.body, manifest);
    for (const blob of [copied.body.config!, ...copied.body.layers!]) {
      assert.deepEqual(await headBlob(e2e.berth.base, target, blob.digest), { status: 200, size: blob.size });
    }
  });
});

function listRequests(requests: RecordedRequest[]): string {
  return requests.map((r) => `${r.method} ${r.url.pathname}${r.url.search} -> ${r.status}`).join('\n');
}
