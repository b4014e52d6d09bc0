import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes } from '../../src/core/lifecycle/quota.js';
import { purgeUploads } from '../../src/core/lifecycle/upload-purge.js';
import type { Digest } from '../../src/core/oci/digest.js';
import {
  call,
  pushBlob,
  pushImage,
  putManifest,
  randomBlob,
  sha256,
  startUpload,
} from '../support/oci-client.js';
import { ManualClock, runGc, startGcBerth } from './support.js';

async function project(berth: Awaited<ReturnType<typeof startGcBerth>>, name: string, storageLimit: number) {
  const created = await berth.metadata.projects.create(
    { name, ownerId: 1, public: true, metadata: {}, storageLimit },
    new Date(),
  );
  assert.ok(created.ok);
  return created.value;
}

describe('storage quotas', () => {
  it('formats sizes for people', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(1024 ** 3), '1 GiB');
    assert.equal(formatBytes(1.2 * 1024 ** 3), '1.2 GiB');
  });

  it('counts each blob once per project through push, mount, delete and GC', async () => {
    const berth = await startGcBerth(0);
    try {
      await project(berth, 'q', -1);
      const usage = () => berth.metadata.quotas.usage('q');
      const a = await pushImage(berth.base, 'q/a', 'v1');
      const sizeA = a.config.length + a.layer.length + a.manifest.length;
      assert.equal(await usage(), sizeA);
      const mount = await call(berth.base, `/v2/q/b/blobs/uploads/?mount=${sha256(a.layer)}&from=q/a`, {
        method: 'POST',
      });
      assert.equal(mount.status, 201);
      assert.equal(await usage(), sizeA, 'a mounted blob is counted once');
      const other = await pushImage(berth.base, 'other/a', 'v1');
      assert.equal(
        await berth.metadata.quotas.usage('other'),
        other.config.length + other.layer.length + other.manifest.length,
      );
      const del = await call(berth.base, `/v2/q/a/manifests/${a.digest}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      assert.equal(
        await usage(),
        sizeA - a.manifest.length,
        'manifest bytes leave; layers stay linked until GC',
      );
      await runGc(berth, {});
      assert.equal(await usage(), 0, 'GC removed the unreferenced links, the mount included');
      assert.deepEqual(await berth.metadata.quotas.recount(), []);
    } finally {
      await berth.dispose();
    }
  });

  it('refuses a push past the limit at the manifest PUT, and moves no tag', async () => {
    const berth = await startGcBerth(0);
    try {
      await project(berth, 'small', 2000);
      const first = await pushImage(berth.base, 'small/app', 'latest'); // ~1 KiB
      const big = randomBlob(1500);
      const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
      await pushBlob(berth.base, 'small/app', config);
      await pushBlob(berth.base, 'small/app', big);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: {
            mediaType: 'application/vnd.oci.image.config.v1+json',
            digest: sha256(config),
            size: config.length,
          },
          layers: [
            { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(big), size: big.length },
          ],
        }),
      );
      const refused = await putManifest(berth.base, 'small/app', 'latest', manifest);
      assert.equal(refused.res.status, 403, refused.body);
      assert.match(refused.body, /DENIED/);
      assert.match(refused.body, /quota exceeded: used [0-9.]+ KiB of 2 KiB/);
      assert.equal(
        await berth.metadata.tags.resolve('small/app', 'latest'),
        first.digest,
        'the tag did not move',
      );
      assert.equal(await berth.metadata.manifests.get('small/app', sha256(manifest) as Digest), undefined);
      const summary = await berth.metadata.quotas.usage('small');
      assert.ok(summary > 2000, 'the uploaded layers count until GC removes their unreferenced links');
      await runGc(berth, {});
      assert.equal(
        await berth.metadata.quotas.usage('small'),
        first.config.length + first.layer.length + first.manifest.length,
      );
    } finally {
      await berth.dispose();
    }
  });
});

describe('upload purge', () => {
  it('purges sessions older than the TTL with their bytes, and keeps younger ones', async () => {
    const clock = new ManualClock(new Date());
    const berth = await startGcBerth(0, clock);
    try {
      const old = await startUpload(berth.base, 'purge/app');
      const oldId = new URL(old).pathname.split('/').pop()!;
      const patch = await call(berth.base, new URL(old).pathname, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: randomBlob(100),
      });
      assert.equal(patch.status, 202);
      clock.advance(25 * 3_600_000);
      const young = await startUpload(berth.base, 'purge/app');
      const youngId = new URL(young).pathname.split('/').pop()!;
      const lines: string[] = [];
      const result = await purgeUploads(berth.blobStore, berth.metadata, clock, 24 * 3_600_000, (l) =>
        lines.push(l),
      );
      assert.equal(result.purged, 1);
      assert.equal(await berth.metadata.uploads.get(oldId), undefined);
      assert.equal(await berth.blobStore.uploadStatus(oldId), undefined, 'the bytes went too');
      assert.ok(await berth.metadata.uploads.get(youngId));
      assert.ok(await berth.blobStore.uploadStatus(youngId));
      const status = await call(berth.base, new URL(old).pathname);
      assert.equal(status.status, 404);
      const job = await berth.scheduler.trigger('upload-purge', 'Manual', {});
      assert.ok(job.ok);
      assert.equal((await job.done)?.status, 'Success');
    } finally {
      await berth.dispose();
    }
  });
});
