// Scenario 3: a two-platform index made with `buildah manifest create` + `add`, pushed with
// `buildah manifest push --all`; `skopeo --override-arch` then pulls the right child for each platform.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildScratchImage, requireClients, type ScratchImage } from '../support/clients.js';
import { sharedSetup } from '../support/setup.js';
import { fetchManifest, headBlob, mediaTypes, startE2E, type Descriptor, type E2E } from './registry.js';

const platforms = ['amd64', 'arm64'] as const;
type Arch = (typeof platforms)[number];

describe('e2e: a two-platform index pushed by buildah and pulled per platform by skopeo', () => {
  let e2e: E2E;
  const images = new Map<Arch, ScratchImage>();
  const repository = 'multi/app';
  const list = 'localhost/e2e/app-list';

  const ready = sharedSetup(async () => {
    await requireClients(['buildah', 'skopeo']);
    e2e = await startE2E();
    for (const arch of platforms) {
      images.set(
        arch,
        await buildScratchImage(e2e.sandbox, {
          name: `localhost/e2e/app:${arch}`,
          layers: [{ '/platform.txt': `built for linux/${arch}\n` }],
          arch,
          os: 'linux',
        }),
      );
    }
    await e2e.sandbox.run('buildah', ['manifest', 'create', list]);
    for (const arch of platforms) {
      // No --arch/--os here: the index's platforms come from each image's config (`buildah config --arch`).
      await e2e.sandbox.run('buildah', [
        'manifest',
        'add',
        list,
        `containers-storage:localhost/e2e/app:${arch}`,
      ]);
    }
  });
  after(() => e2e?.dispose());

  it('buildah manifest push --all stores the index and both children', async () => {
    await ready();
    await e2e.sandbox.run('buildah', [
      'manifest',
      'push',
      '--all',
      '--quiet',
      '--tls-verify=false',
      '--digestfile',
      join(e2e.sandbox.dir, 'index-digest'),
      list,
      e2e.docker(`${repository}:1.0`),
    ]);
    const index = await fetchManifest(e2e.berth.base, repository, '1.0');
    assert.equal(index.status, 200);
    assert.ok(
      index.contentType === mediaTypes.ociIndex || index.contentType === mediaTypes.dockerList,
      `an index media type, got ${index.contentType}`,
    );
    assert.equal(index.body?.mediaType ?? mediaTypes.ociIndex, index.contentType);
    assert.equal(index.digest, (await readFile(join(e2e.sandbox.dir, 'index-digest'), 'utf8')).trim());

    const children = index.body!.manifests!;
    assert.deepEqual(children.map((c) => c.platform?.architecture).sort(), [...platforms]);
    for (const child of children) {
      assert.equal(child.platform?.os, 'linux');
      const manifest = await fetchManifest(e2e.berth.base, repository, child.digest);
      assert.equal(manifest.status, 200, `child ${child.digest} is stored`);
      assert.equal(manifest.contentType, child.mediaType);
      const arch = child.platform.architecture as Arch;
      assert.equal(
        manifest.body?.config?.digest,
        `sha256:${images.get(arch)!.id}`,
        `${arch} child is the ${arch} image`,
      );
      for (const blob of [manifest.body.config, ...manifest.body.layers!]) {
        assert.equal((await headBlob(e2e.berth.base, repository, blob.digest)).status, 200);
      }
    }
  });

  for (const arch of platforms) {
    it(`skopeo --override-arch ${arch} copies the ${arch} child`, async () => {
      await ready();
      const index = await fetchManifest(e2e.berth.base, repository, '1.0');
      assert.equal(index.status, 200, 'the index was pushed by the previous test');
      const child = index.body!.manifests!.find((c: Descriptor) => c.platform?.architecture === arch)!;
      const layout = join(e2e.sandbox.dir, `layout-${arch}`);

      await e2e.sandbox.run('skopeo', [
        '--override-arch',
        arch,
        '--override-os',
        'linux',
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        e2e.docker(`${repository}:1.0`),
        `oci:${layout}:${arch}`,
      ]);

      // skopeo resolved the index to this platform's child; a Docker schema 2 child is converted to OCI
      // for the layout, so compare what survives conversion: the config (the image ID) and the layers.
      const pulled = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
        manifests: Descriptor[];
      };
      assert.equal(pulled.manifests.length, 1);
      const pulledDigest = pulled.manifests[0]!.digest;
      const pulledManifest = JSON.parse(
        await readFile(join(layout, 'blobs', ...pulledDigest.split(':')), 'utf8'),
      ) as {
        config: Descriptor;
        layers: Descriptor[];
      };
      const served = (await fetchManifest(e2e.berth.base, repository, child.digest)).body!;
      if (child.mediaType === mediaTypes.ociManifest) assert.equal(pulledDigest, child.digest);
      assert.equal(pulledManifest.config.digest, served.config!.digest);
      assert.equal(pulledManifest.config.digest, `sha256:${images.get(arch)!.id}`);
      assert.deepEqual(
        pulledManifest.layers.map((l) => l.digest),
        served.layers!.map((l) => l.digest),
      );
      const config = JSON.parse(
        await readFile(join(layout, 'blobs', ...pulledManifest.config.digest.split(':')), 'utf8'),
      ) as {
        architecture: string;
        os: string;
      };
      assert.deepEqual(
        { architecture: config.architecture, os: config.os },
        { architecture: arch, os: 'linux' },
      );
    });
  }
});
