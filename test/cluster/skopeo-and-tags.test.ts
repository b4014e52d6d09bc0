// Three Berth nodes on one PostgreSQL database and one S3 bucket: an image skopeo pushes through one node
// pulls whole through the others, and a tag changed on any node is what every node answers next.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { requireClients, createSandbox, type Sandbox } from '../support/clients.js';
import { startCluster, type Cluster, type ClusterNode } from '../support/cluster.js';
import { fetchManifest, verifyCluster } from '../support/cluster-checks.js';
import { readOciLayout, writeOciLayout, type LayoutImage } from '../support/oci-layout.js';
import {
  call,
  descriptorOf,
  imageManifest,
  listTags,
  ociConfigType,
  ociLayerType,
  pushBlob,
  pushManifest,
  randomBlob,
  sha256,
} from '../support/oci-client.js';
import { sharedSetup } from '../support/setup.js';

describe('cluster: one registry behind three nodes', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let a: ClusterNode, b: ClusterNode, c: ClusterNode;
  let sandbox: Sandbox;

  const ready = sharedSetup(async () => {
    await requireClients(['skopeo']);
    cluster = await startCluster(3);
    [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
    sandbox = await createSandbox(a.registry);
  });
  after(async () => {
    await sandbox?.dispose();
    await cluster?.dispose();
  });

  const docker = (node: ClusterNode, reference: string) => `docker://${node.registry}/${reference}`;

  it('skopeo pushes an image through node a; it pulls whole, hashing right, through b and c', async () => {
    await ready();
    const image: LayoutImage = await writeOciLayout(join(sandbox.dir, 'push'), '1.0', [
      { '/hello': '#!/bin/sh\necho hello from a cluster\n' },
      { '/etc/motd': 'pushed through node a\n', '/data.bin': randomBlob(256 * 1024) },
    ]);
    await sandbox.run('skopeo', [
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${join(sandbox.dir, 'push')}:1.0`,
      docker(a, 'cluster/app:1.0'),
    ]);

    for (const node of [b, c]) {
      const pulled = join(sandbox.dir, `pull-${node.name}`);
      await sandbox.run('skopeo', [
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        docker(node, 'cluster/app:1.0'),
        `oci:${pulled}:1.0`,
      ]);
      const layout = await readOciLayout(pulled);
      assert.deepEqual(
        layout.manifests,
        [image.manifestDigest],
        `node ${node.name} serves the pushed manifest`,
      );
      assert.deepEqual([...layout.blobs.keys()].sort(), [...image.blobs.keys()].sort(), 'every blob pulled');
      for (const [name, actual] of layout.blobs) assert.equal(actual, name, `blob ${name} via ${node.name}`);

      const raw = await sandbox.run('skopeo', [
        'inspect',
        '--raw',
        '--tls-verify=false',
        docker(node, 'cluster/app:1.0'),
      ]);
      assert.equal(raw.stdout, image.manifest.toString('utf8'), `exact manifest bytes via ${node.name}`);
    }

    // Registry to registry across nodes: read through b, written through c (blobs exist: mounted or skipped).
    await sandbox.run('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      docker(b, 'cluster/app:1.0'),
      docker(c, 'cluster/copy:1.0'),
    ]);
    for (const node of [a, b, c]) {
      const got = await fetchManifest(node, 'cluster/copy', '1.0');
      assert.equal(got.status, 200);
      assert.equal(got.digest, image.manifestDigest, `the copy keeps the digest on ${node.name}`);
    }
  });

  it('a tag set, moved or deleted on one node is what every node answers right after', async () => {
    await ready();
    const repository = 'cluster/tags';
    const layer = randomBlob(4096);
    await pushBlob(a.base, repository, layer);
    const manifests: { bytes: Buffer; digest: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', version: i }));
      await pushBlob([a, b, c][i]!.base, repository, config);
      const bytes = imageManifest({
        config: descriptorOf(ociConfigType, config),
        layers: [descriptorOf(ociLayerType, layer)],
      });
      // By digest, so that no tag exists yet; each node pushes one.
      const digest = await pushManifest([a, b, c][i]!.base, repository, sha256(bytes), bytes);
      manifests.push({ bytes, digest });
    }

    const answers = async (tag: string) =>
      Promise.all(
        [a, b, c].map(async (node) => {
          const got = await fetchManifest(node, repository, tag);
          return got.status === 200 ? got.digest : got.status;
        }),
      );

    // Every node answered 404 for the tag before it existed: nothing negative may stick.
    assert.deepEqual(await answers('moving'), [404, 404, 404]);
    for (let round = 0; round < 12; round++) {
      const writer = [a, b, c][round % 3]!;
      const target = manifests[round % manifests.length]!;
      await pushManifest(writer.base, repository, 'moving', target.bytes);
      assert.deepEqual(
        await answers('moving'),
        [target.digest, target.digest, target.digest],
        `round ${round}: tag moved on node ${writer.name}`,
      );
      for (const node of [a, b, c]) {
        assert.ok((await listTags(node.base, repository)).tags.includes('moving'), `listed on ${node.name}`);
      }
    }

    const deleted = await call(c.base, `/v2/${repository}/manifests/moving`, { method: 'DELETE' });
    assert.equal(deleted.status, 202);
    assert.deepEqual(await answers('moving'), [404, 404, 404], 'deleted on c, gone everywhere');
    for (const node of [a, b, c]) assert.deepEqual((await listTags(node.base, repository)).tags ?? [], []);

    // Deleting a manifest by digest on one node: the others (which served and cached its bytes) answer 404.
    const doomed = manifests[0]!;
    await pushManifest(a.base, repository, 'doomed', doomed.bytes);
    assert.deepEqual(await answers(doomed.digest), [doomed.digest, doomed.digest, doomed.digest]);
    const removed = await call(b.base, `/v2/${repository}/manifests/${doomed.digest}`, { method: 'DELETE' });
    assert.equal(removed.status, 202);
    assert.deepEqual(await answers(doomed.digest), [404, 404, 404], 'manifest deleted on b');
    assert.deepEqual(await answers('doomed'), [404, 404, 404], 'its tag went with it');
  });

  it('afterwards every node serves everything, and every blob hashes right', async () => {
    await ready();
    const verified = await verifyCluster(cluster);
    assert.equal(verified.repositories, 3);
    assert.ok(verified.pulls >= 3 * 4, `pulls checked: ${JSON.stringify(verified)}`);
    assert.ok(verified.links > 0 && verified.objects > 0, JSON.stringify(verified));
  });
});
