// Scenario 6: podman (vfs storage, private root) pulls an image from Berth and pushes it back under
// another name.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildScratchImage, requireClients, type ScratchImage } from '../support/clients.js';
import { sharedSetup } from '../support/setup.js';
import { fetchManifest, fetchTags, headBlob, mediaTypes, startE2E, type E2E } from './registry.js';

interface PodmanImage {
  Id: string;
  Digest: string;
  RepoTags: string[];
  Architecture: string;
  Os: string;
}

describe('e2e: podman pulls from Berth and pushes under another name', () => {
  let e2e: E2E;
  let image: ScratchImage;
  const source = 'podman/original';
  let sourceDigest: string;

  const ready = sharedSetup(async () => {
    await requireClients(['buildah', 'podman']);
    e2e = await startE2E();
    image = await buildScratchImage(e2e.sandbox, {
      name: 'localhost/e2e/podman:1',
      layers: [{ '/hello.txt': 'hello podman\n' }],
      cmd: ['/hello.txt'],
    });
    await e2e.sandbox.run('buildah', [
      'push',
      '--quiet',
      '--tls-verify=false',
      '--format',
      'v2s2',
      image.name,
      e2e.docker(`${source}:1.0`),
    ]);
    // Pull into a clean store: drop the image buildah built so podman really fetches it from Berth.
    await e2e.sandbox.run('buildah', ['rmi', '--all', '--force']);
    sourceDigest = (await fetchManifest(e2e.berth.base, source, '1.0', 'HEAD')).digest!;
  });
  after(() => e2e?.dispose());

  it('podman pull, then podman push to a new repository and tag', async () => {
    await ready();
    const pulledName = `${e2e.registry}/${source}:1.0`;
    await e2e.sandbox.run('podman', ['pull', '--quiet', '--tls-verify=false', pulledName]);
    const inspected = JSON.parse(
      (await e2e.sandbox.run('podman', ['image', 'inspect', pulledName])).stdout,
    ) as PodmanImage[];
    assert.equal(inspected.length, 1);
    assert.equal(inspected[0]!.Id, image.id, 'podman stored the image buildah built');
    assert.equal(inspected[0]!.Digest, sourceDigest, 'podman records the manifest digest Berth served');
    assert.deepEqual([inspected[0]!.Os, inspected[0]!.Architecture], ['linux', 'amd64']);

    const target = 'podman/copy';
    await e2e.sandbox.run('podman', ['tag', pulledName, `${e2e.registry}/${target}:2.0`]);
    await e2e.sandbox.run('podman', [
      'push',
      '--quiet',
      '--tls-verify=false',
      `${e2e.registry}/${target}:2.0`,
    ]);

    assert.deepEqual((await fetchTags(e2e.berth.base, target)).tags, ['2.0']);
    const pushed = await fetchManifest(e2e.berth.base, target, '2.0');
    assert.equal(pushed.status, 200);
    assert.ok(
      pushed.contentType === mediaTypes.dockerManifest || pushed.contentType === mediaTypes.ociManifest,
      `an image manifest type, got ${pushed.contentType}`,
    );
    const original = (await fetchManifest(e2e.berth.base, source, '1.0')).body!;
    assert.equal(pushed.body?.config?.digest, `sha256:${image.id}`, 'same image config');
    assert.equal(pushed.body?.config?.digest, original.config?.digest);
    assert.equal(pushed.body?.layers?.length, original.layers?.length);
    for (const blob of [pushed.body.config, ...pushed.body.layers!]) {
      assert.deepEqual(await headBlob(e2e.berth.base, target, blob.digest), { status: 200, size: blob.size });
    }

    // podman reads back what it pushed.
    await e2e.sandbox.run('podman', ['rmi', '--all', '--force']);
    await e2e.sandbox.run('podman', [
      'pull',
      '--quiet',
      '--tls-verify=false',
      `${e2e.registry}/${target}:2.0`,
    ]);
    const again = JSON.parse(
      (await e2e.sandbox.run('podman', ['image', 'inspect', `${e2e.registry}/${target}:2.0`])).stdout,
    ) as PodmanImage[];
    assert.equal(again[0]!.Id, image.id);
    assert.equal(again[0]!.Digest, pushed.digest);
  });
});
