import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/core/oci/digest.js';
import {
  call,
  descriptorOf,
  emptyJson,
  imageIndex,
  imageManifest,
  ociIndexType,
  ociManifestType,
  pushBlob,
  pushImage,
  pushManifest,
  randomBlob,
  sha256,
} from '../support/oci-client.js';
import { pullAndVerify } from './pull-check.js';
import { runGc, startGcBerth } from './support.js';

describe('garbage collection', () => {
  it('removes unreferenced blobs and manifests, keeps referenced ones; a dry run deletes nothing', async () => {
    const berth = await startGcBerth(0);
    try {
      const kept = await pushImage(berth.base, 'gc/keep', 'v1');
      const dropped = await pushImage(berth.base, 'gc/drop', 'v1');
      const orphan = randomBlob(1000);
      const orphanDigest = (await pushBlob(berth.base, 'gc/keep', orphan)) as Digest;
      const del = await call(berth.base, `/v2/gc/drop/manifests/${dropped.digest}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      const droppedBlobs = [sha256(dropped.config), sha256(dropped.layer), dropped.digest] as Digest[];

      const dry = await runGc(berth, { dry_run: true });
      assert.equal(dry.deletedBlobs, 1, 'the dry run sees what is garbage now: bytes no link holds');
      assert.equal(dry.unlinkedBlobs, 3, 'and the links no manifest references');
      for (const d of [...droppedBlobs, orphanDigest])
        assert.ok(await berth.blobStore.stat(d), `dry run kept ${d}`);
      assert.ok(await berth.metadata.blobLinks.get('gc/keep', orphanDigest));

      const result = await runGc(berth, {});
      assert.equal(result.unlinkedBlobs, 3);
      assert.equal(result.deletedBlobs, 4);
      assert.equal(
        result.freedBytes,
        dropped.config.length + dropped.layer.length + dropped.manifest.length + orphan.length,
      );
      for (const d of [...droppedBlobs, orphanDigest])
        assert.equal(await berth.blobStore.stat(d), undefined, d);
      assert.equal(await berth.metadata.blobLinks.get('gc/keep', orphanDigest), undefined);
      assert.equal(await pullAndVerify(berth.base, 'gc/keep', 'v1'), 2);
      for (const d of [sha256(kept.config), sha256(kept.layer), kept.digest] as Digest[])
        assert.ok(await berth.blobStore.stat(d));

      const again = await runGc(berth, {});
      assert.equal(again.deletedBlobs, 0, 'nothing left to collect');
      const history = await berth.metadata.jobs.listRuns('gc', { offset: 0, limit: 10 });
      assert.equal(history.total, 3);
      assert.match((await berth.metadata.jobs.log(history.items[1]!.id)) ?? '', /deleted blob sha256:/);
    } finally {
      await berth.dispose();
    }
  });

  it('keeps everything inside the grace window', async () => {
    const berth = await startGcBerth(3600);
    try {
      const image = await pushImage(berth.base, 'gc/recent', 'v1');
      await call(berth.base, `/v2/gc/recent/manifests/${image.digest}`, { method: 'DELETE' });
      await pushBlob(berth.base, 'gc/recent', randomBlob(10));
      const result = await runGc(berth, { delete_untagged: true });
      assert.deepEqual([result.deletedBlobs, result.unlinkedBlobs, result.deletedManifests], [0, 0, 0]);
      assert.ok((result.keptRecent ?? 0) >= 4);
    } finally {
      await berth.dispose();
    }
  });

  it('delete_untagged removes untagged manifests no index and no surviving subject holds', async () => {
    const berth = await startGcBerth(0);
    const name = 'gc/untagged';
    try {
      const tagged = await pushImage(berth.base, name, 'v1');
      const untagged = await pushImage(berth.base, name); // by digest
      await pushBlob(berth.base, name, emptyJson);
      const signature = async (subject: Buffer, label: string) => {
        const manifest = imageManifest({
          artifactType: 'application/vnd.example.sig',
          subject: descriptorOf(ociManifestType, subject),
          annotations: { label },
        });
        return pushManifest(berth.base, name, sha256(manifest), manifest);
      };
      const sigOfTagged = await signature(tagged.manifest, 'a');
      const sigOfUntagged = await signature(untagged.manifest, 'b');
      const child = await pushImage(berth.base, name); // by digest, held by the index below
      const index = imageIndex([descriptorOf(ociManifestType, child.manifest)]);
      await pushManifest(berth.base, name, 'multi', index, ociIndexType);

      const result = await runGc(berth, { delete_untagged: true });
      assert.equal(result.deletedManifests, 2);
      const exists = async (digest: string) =>
        (await berth.metadata.manifests.get(name, digest as Digest)) !== undefined;
      assert.equal(await exists(untagged.digest), false);
      assert.equal(await exists(sigOfUntagged), false, 'its subject went, so the referrer went too');
      assert.equal(await exists(tagged.digest), true);
      assert.equal(await exists(sigOfTagged), true, 'a referrer of a surviving subject stays');
      assert.equal(await exists(child.digest), true, 'an index child stays');
      assert.equal(
        await berth.blobStore.stat(sha256(untagged.layer) as Digest),
        undefined,
        'its layer was swept',
      );
      await pullAndVerify(berth.base, name, 'v1');
      await pullAndVerify(berth.base, name, 'multi');
    } finally {
      await berth.dispose();
    }
  });

  it('never deletes a blob whose upload is committing: the dedupe drop and the link are pinned', async () => {
    const berth = await startGcBerth(0);
    try {
      const layer = randomBlob(4096);
      const digest = (await pushBlob(berth.base, 'race/a', layer)) as Digest;
      const unlink = await call(berth.base, `/v2/race/a/blobs/${digest}`, { method: 'DELETE' });
      assert.equal(unlink.status, 202);
      // The bytes are still stored and nothing links them: garbage, until the upload below commits.
      const store = berth.blobStore;
      const commit = store.commitUpload.bind(store);
      let gcResult: Record<string, number> | undefined;
      store.commitUpload = async (id, expected) => {
        const result = await commit(id, expected); // finds the content address taken: drops its copy
        gcResult = await runGc(berth, {}); // a whole GC between publishing and linking
        return result;
      };
      await pushBlob(berth.base, 'race/b', layer);
      store.commitUpload = commit;
      assert.equal(gcResult?.deletedBlobs, 0, 'GC skipped the pinned digest');
      assert.ok(await store.stat(digest), 'the bytes survived');
      const res = await call(berth.base, `/v2/race/b/blobs/${digest}`);
      assert.equal(res.status, 200);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), digest);
    } finally {
      await berth.dispose();
    }
  });
});
