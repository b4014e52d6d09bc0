// Scenarios 2 and 4: skopeo inspects, lists tags, round-trips an image through an OCI layout with its
// digest unchanged, and deletes a manifest by digest (which removes its tags).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildScratchImage, requireClients, type ScratchImage } from '../support/clients.js';
import { sharedSetup } from '../support/setup.js';
import { fetchManifest, fetchTags, mediaTypes, startE2E, type E2E } from './registry.js';

interface SkopeoInspect {
  Name: string;
  Digest: string;
  RepoTags: string[];
  Architecture: string;
  Os: string;
  Layers: string[];
  Labels: Record<string, string> | null;
}

describe('e2e: skopeo against Berth', () => {
  let e2e: E2E;
  let image: ScratchImage;
  const repository = 'skopeo/tiny';
  let pushedDigest: string;

  const ready = sharedSetup(async () => {
    await requireClients(['buildah', 'skopeo']);
    e2e = await startE2E();
    image = await buildScratchImage(e2e.sandbox, {
      name: 'localhost/e2e/skopeo:1',
      layers: [{ '/hello.txt': 'hello skopeo\n' }],
      arch: 'amd64',
    });
    // Pushed as OCI under two tags: the OCI layout round trip below keeps OCI manifests as they are.
    for (const tag of ['1.0', 'latest']) {
      await e2e.sandbox.run('buildah', [
        'push',
        '--quiet',
        '--tls-verify=false',
        '--format',
        'oci',
        image.name,
        e2e.docker(`${repository}:${tag}`),
      ]);
    }
    pushedDigest = (await fetchManifest(e2e.berth.base, repository, '1.0', 'HEAD')).digest!;
  });
  after(() => e2e?.dispose());

  it('skopeo inspect shows the image and --raw returns the exact manifest bytes', async () => {
    await ready();
    const { stdout } = await e2e.sandbox.run('skopeo', [
      'inspect',
      '--tls-verify=false',
      e2e.docker(`${repository}:1.0`),
    ]);
    const inspected = JSON.parse(stdout) as SkopeoInspect;
    assert.equal(inspected.Name, `${e2e.registry}/${repository}`);
    assert.equal(inspected.Digest, pushedDigest);
    assert.deepEqual([...inspected.RepoTags].sort(), ['1.0', 'latest']);
    assert.equal(inspected.Architecture, 'amd64');
    assert.equal(inspected.Os, 'linux');
    assert.equal(inspected.Layers.length, 1);
    assert.equal(inspected.Labels?.['e2e.layer'], '0');

    const raw = await e2e.sandbox.run('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      e2e.docker(`${repository}:1.0`),
    ]);
    const served = await fetch(`${e2e.berth.base}/v2/${repository}/manifests/1.0`, {
      headers: { Accept: mediaTypes.ociManifest },
    });
    assert.equal(raw.stdout, await served.text(), '--raw prints the bytes Berth serves');
    assert.equal((JSON.parse(raw.stdout) as { mediaType: string }).mediaType, mediaTypes.ociManifest);

    const config = await e2e.sandbox.run('skopeo', [
      'inspect',
      '--config',
      '--tls-verify=false',
      e2e.docker(`${repository}@${pushedDigest}`),
    ]);
    assert.equal((JSON.parse(config.stdout) as { architecture: string }).architecture, 'amd64');
  });

  it('skopeo list-tags lists the pushed tags', async () => {
    await ready();
    const { stdout } = await e2e.sandbox.run('skopeo', [
      'list-tags',
      '--tls-verify=false',
      e2e.docker(repository),
    ]);
    const listed = JSON.parse(stdout) as { Repository: string; Tags: string[] };
    assert.equal(listed.Repository, `${e2e.registry}/${repository}`);
    assert.deepEqual([...listed.Tags].sort(), ['1.0', 'latest']);
  });

  it('skopeo copies docker:// to an oci: layout and back to a new tag with the digest unchanged', async () => {
    await ready();
    const layout = join(e2e.sandbox.dir, 'layout');
    await e2e.sandbox.run('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      e2e.docker(`${repository}:1.0`),
      `oci:${layout}:tiny`,
    ]);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    assert.deepEqual(
      index.manifests.map((m) => m.digest),
      [pushedDigest],
      'the layout holds the manifest as Berth served it',
    );

    await e2e.sandbox.run('skopeo', [
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${layout}:tiny`,
      e2e.docker(`${repository}:roundtrip`),
    ]);
    const back = await fetchManifest(e2e.berth.base, repository, 'roundtrip', 'HEAD');
    assert.equal(back.status, 200);
    assert.equal(back.digest, pushedDigest, 'Docker-Content-Digest unchanged by the round trip');
    assert.equal(back.contentType, mediaTypes.ociManifest);
  });

  it('skopeo delete by digest removes the manifest and every tag pointing at it', async () => {
    await ready();
    const doomed = 'skopeo/doomed';
    for (const tag of ['a', 'b']) {
      await e2e.sandbox.run('skopeo', [
        'copy',
        '--quiet',
        '--all',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        e2e.docker(`${repository}:1.0`),
        e2e.docker(`${doomed}:${tag}`),
      ]);
    }
    const digest = (await fetchManifest(e2e.berth.base, doomed, 'a', 'HEAD')).digest!;
    assert.equal(digest, pushedDigest);
    assert.deepEqual((await fetchTags(e2e.berth.base, doomed)).tags.sort(), ['a', 'b']);

    await e2e.sandbox.run('skopeo', ['delete', '--tls-verify=false', e2e.docker(`${doomed}@${digest}`)]);

    assert.equal(
      (await fetchManifest(e2e.berth.base, doomed, digest, 'HEAD')).status,
      404,
      'manifest gone by digest',
    );
    for (const tag of ['a', 'b']) {
      const got = await fetchManifest(e2e.berth.base, doomed, tag);
      assert.equal(got.status, 404, `tag ${tag} gone`);
    }
    assert.deepEqual((await fetchTags(e2e.berth.base, doomed)).tags, [], 'no tags listed');
    await assert.rejects(
      e2e.sandbox.run('skopeo', ['inspect', '--raw', '--tls-verify=false', e2e.docker(`${doomed}:a`)]),
      /manifest unknown/i,
    );

    // The other repository holding the same manifest is untouched.
    assert.equal((await fetchManifest(e2e.berth.base, repository, '1.0', 'HEAD')).digest, pushedDigest);
  });
});
