// Scenario 1: buildah builds an image from scratch and pushes it as Docker schema 2 and as OCI; Berth
// serves each manifest with the media type it was pushed as.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { buildScratchImage, requireClients, type ScratchImage } from '../support/clients.js';
import { sharedSetup } from '../support/setup.js';
import { fetchManifest, headBlob, mediaTypes, startE2E, type E2E } from './registry.js';

describe('e2e: buildah builds from scratch and pushes', () => {
  let e2e: E2E;
  let image: ScratchImage;

  const ready = sharedSetup(async () => {
    await requireClients(['buildah']);
    e2e = await startE2E();
    image = await buildScratchImage(e2e.sandbox, {
      name: 'localhost/e2e/tiny:1',
      layers: [{ '/hello.txt': 'hello from berth\n', '/etc/motd': 'tiny\n' }],
      cmd: ['/hello.txt'],
    });
  });
  after(() => e2e?.dispose());

  for (const [format, expected] of [
    ['v2s2', mediaTypes.dockerManifest],
    ['oci', mediaTypes.ociManifest],
  ] as const) {
    it(`pushes with --format ${format} and Berth serves ${expected}`, async () => {
      await ready();
      const repository = `buildah/tiny-${format}`;
      await e2e.sandbox.run('buildah', [
        'push',
        '--quiet',
        '--tls-verify=false',
        '--format',
        format,
        '--digestfile',
        `${e2e.sandbox.dir}/digest-${format}`,
        image.name,
        e2e.docker(`${repository}:1.0`),
      ]);

      const head = await fetchManifest(e2e.berth.base, repository, '1.0', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.contentType, expected);
      const got = await fetchManifest(e2e.berth.base, repository, '1.0');
      assert.equal(got.status, 200);
      assert.equal(got.contentType, expected);
      assert.equal(got.digest, head.digest);
      assert.equal(got.body?.mediaType, expected, 'the body declares the same media type');
      assert.equal(
        got.digest,
        (await readFile(`${e2e.sandbox.dir}/digest-${format}`, 'utf8')).trim(),
        'buildah --digestfile',
      );

      // The config is the image buildah built, and every layer is pullable from the repository.
      assert.equal(got.body?.config?.digest, `sha256:${image.id}`);
      const layers = got.body?.layers ?? [];
      assert.equal(layers.length, 1);
      for (const blob of [got.body.config, ...layers]) {
        assert.deepEqual(await headBlob(e2e.berth.base, repository, blob.digest), {
          status: 200,
          size: blob.size,
        });
      }

      // By digest, the same bytes and type.
      const byDigest = await fetchManifest(e2e.berth.base, repository, got.digest);
      assert.equal(byDigest.contentType, expected);
      assert.deepEqual(byDigest.body, got.body);
    });
  }
});
