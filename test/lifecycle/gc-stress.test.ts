import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, pushBlob, putManifest, sha256 } from '../support/oci-client.js';
import { pullAndVerify } from './pull-check.js';
import { runGc, startGcBerth } from './support.js';
import { prng, seededBytes } from '../support/seeded.js';

const pushers = 4;
const imagesPerPusher = 24;
const deadlineMs = 20_000;

describe('garbage collection under load', () => {
  it('never breaks a tagged image while pushes, deletes and mounts race GC with a zero grace window', async () => {
    const berth = await startGcBerth(0);
    const random = prng(20240501);
    const shared = Array.from({ length: 6 }, () => seededBytes(random, 2048 + Math.floor(random() * 30_000)));
    const started = Date.now();
    let done = false;
    let gcRuns = 0;
    let retries = 0;
    const stats = { deletedBlobs: 0, unlinkedBlobs: 0 };
    try {
      const pushOne = async (repo: string, tag: string, r: () => number): Promise<string> => {
        const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag, n: r() }));
        const layers = [shared[Math.floor(r() * shared.length)]!, shared[Math.floor(r() * shared.length)]!];
        for (let attempt = 0; ; attempt++) {
          await pushBlob(berth.base, repo, config);
          for (const layer of layers) {
            // Half the time mount from a sibling repository instead of uploading.
            const from = `stress/p${Math.floor(r() * pushers)}`;
            const mount = await call(
              berth.base,
              `/v2/${repo}/blobs/uploads/?mount=${sha256(layer)}&from=${from}`,
              {
                method: 'POST',
              },
            );
            await mount.arrayBuffer();
            if (mount.status !== 201) {
              const location = mount.headers.get('location')!;
              const url = new URL(location, berth.base);
              url.searchParams.set('digest', sha256(layer));
              const put = await fetch(url, { method: 'PUT', body: new Uint8Array(layer) });
              assert.equal(put.status, 201, await put.text());
            }
          }
          const manifest = Buffer.from(
            JSON.stringify({
              schemaVersion: 2,
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              config: {
                mediaType: 'application/vnd.oci.image.config.v1+json',
                digest: sha256(config),
                size: config.length,
              },
              layers: layers.map((l) => ({
                mediaType: 'application/vnd.oci.image.layer.v1.tar',
                digest: sha256(l),
                size: l.length,
              })),
            }),
          );
          const put = await putManifest(berth.base, repo, tag, manifest);
          if (put.res.status === 201) return put.digest;
          // With a zero grace window GC may unlink a just-uploaded blob before the manifest names it:
          // the registry refuses the manifest (never accepts a broken one) and the client pushes again.
          assert.equal(put.res.status, 400, put.body);
          assert.match(put.body, /MANIFEST_BLOB_UNKNOWN/);
          retries += 1;
          assert.ok(attempt < 50, 'a push kept failing');
        }
      };
      const pusher = async (p: number) => {
        const r = prng(1000 + p);
        const repo = `stress/p${p}`;
        const pushed: string[] = [];
        for (let i = 0; i < imagesPerPusher && Date.now() - started < deadlineMs; i++) {
          pushed.push(await pushOne(repo, `t${i}`, r));
          if (i % 4 === 3) {
            // Delete an older image by digest: its layers become garbage in this repository.
            const victim = pushed.splice(Math.floor(r() * pushed.length), 1)[0]!;
            const del = await call(berth.base, `/v2/${repo}/manifests/${victim}`, { method: 'DELETE' });
            assert.ok(del.status === 202 || del.status === 404);
          }
        }
      };
      const collector = async () => {
        while (!done) {
          const result = await runGc(berth, { delete_untagged: gcRuns % 2 === 1 });
          stats.deletedBlobs += result.deletedBlobs ?? 0;
          stats.unlinkedBlobs += result.unlinkedBlobs ?? 0;
          gcRuns += 1;
          // Back-to-back runs with a zero window could starve a push forever (its fresh links always
          // look stale); a short pause between runs lets each push through within a few tries.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const gc = collector();
      await Promise.all(Array.from({ length: pushers }, (_, p) => pusher(p))).finally(() => (done = true));
      await gc;
      await runGc(berth, { delete_untagged: true });

      let images = 0;
      for (let p = 0; p < pushers; p++) {
        const repo = `stress/p${p}`;
        for (const tag of await berth.metadata.tags.list(repo, { limit: 1000 })) {
          await pullAndVerify(berth.base, repo, tag);
          images += 1;
        }
      }
      assert.ok(gcRuns >= 3, `GC ran ${gcRuns} times`);
      assert.ok(stats.deletedBlobs > 0, 'GC did delete garbage while pushes went on');
      assert.ok(images >= pushers * 6, `${images} tagged images checked`);
      console.log(
        `stress: ${images} images, ${gcRuns} GC runs, ${stats.deletedBlobs} blobs deleted, ${retries} retried pushes`,
      );
    } finally {
      done = true;
      await berth.dispose();
    }
  });
});
