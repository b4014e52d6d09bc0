// Online garbage collection in cluster mode: GC runs again and again on node a (started through the
// management API, with a zero grace window) while images that share layers are pushed through nodes b
// and c, with cross-repository mounts, deletes and a moving tag that leaves untagged manifests behind.
// Afterwards every tagged image pulls whole from every node and every blob hashes right.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Api, expectStatus } from '../api/support.js';
import { startCluster, type Cluster, type ClusterNode } from '../support/cluster.js';
import { fetchManifest, verifyCluster } from '../support/cluster-checks.js';
import { call, sha256, sleep } from '../support/oci-client.js';
import { sharedSetup } from '../support/setup.js';
import { prng, seededBytes } from '../support/seeded.js';

const adminPassword = 'Admin12345';
const seed = 20240917;
/** Pushers per pushing node (b and c). */
const pushersPerNode = 2;
const imagesPerPusher = 18;
/** Pushing stops here even if not every image went through; the whole test stays under 30 s. */
const pushDeadlineMs = 11_000;
/** Between GC runs on node a. */
const gcPauseMs = 500;

interface GcRun {
  id: number;
  job_status: string;
  result?: { deletedBlobs?: number; unlinkedBlobs?: number; deletedManifests?: number };
}

describe('cluster: GC on one node while the others take pushes', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let a: ClusterNode, b: ClusterNode, c: ClusterNode;
  let admin: Api;

  const ready = sharedSetup(async () => {
    cluster = await startCluster({
      auth: { enabled: true, adminPassword },
      config: { lifecycle: { gcGraceSeconds: 0 } },
    });
    [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
    admin = Api.as(a.base, 'admin', adminPassword);
  });
  after(async () => {
    await cluster?.dispose();
  });

  /** Starts a manual GC on node a through the API and waits for it to end; returns the run. */
  async function runGc(deleteUntagged: boolean): Promise<GcRun> {
    const body = { schedule: { type: 'Manual' }, parameters: { delete_untagged: deleteUntagged } };
    let started = await admin.post('/system/gc/schedule', body);
    // The previous run's lease goes a moment after its row says Success: ask again then.
    for (let i = 0; started.status === 409 && i < 50; i++) {
      await sleep(20);
      started = await admin.post('/system/gc/schedule', body);
    }
    expectStatus(started, 201, 'start GC on node a');
    const location = started.headers.get('location') ?? '';
    const id = /\/system\/gc\/(\d+)$/.exec(location)?.[1];
    assert.ok(id !== undefined, `Location names the run: ${location}`);
    for (;;) {
      const run = expectStatus(await admin.get(`/system/gc/${id}`), 200).body as GcRun;
      if (run.job_status !== 'Running' && run.job_status !== 'Pending') {
        assert.equal(run.job_status, 'Success', (await admin.get(`/system/gc/${id}/log`)).text);
        return run;
      }
      await sleep(25);
    }
  }

  it('every tagged image pulls whole from every node after GC raced the pushes', async () => {
    await ready();
    const authorization = cluster.authorization!;
    const random = prng(seed);
    // Layers shared by every repository (one over a megabyte), so GC keeps meeting digests in use.
    const shared = Array.from({ length: 7 }, (_, i) =>
      seededBytes(random, i === 0 ? 1_200_000 : 2048 + Math.floor(random() * 40_000)),
    );
    const pushers = [b, c].flatMap((node) => Array.from({ length: pushersPerNode }, () => node));
    const repoOf = (p: number) => `library/gc${p}`;
    const started = Date.now();
    let done = false;
    let gcRuns = 0;
    let retries = 0;
    let mostAttempts = 1;
    let mounted = 0;
    const stats = { deletedBlobs: 0, unlinkedBlobs: 0, deletedManifests: 0 };
    /** What each repository's tags must resolve to at the end; deleted digests must be gone. */
    const expected = new Map<string, Map<string, string>>();
    const deleted: { repo: string; digest: string }[] = [];

    /** Puts one blob into `repo` through `node`: a mount from `from` when that has it, else an upload. */
    const putBlob = async (node: ClusterNode, repo: string, blob: Buffer, from?: string) => {
      const query = from === undefined ? '' : `?mount=${sha256(blob)}&from=${from}`;
      const res = await call(node.base, `/v2/${repo}/blobs/uploads/${query}`, {
        method: 'POST',
        headers: { authorization },
      });
      await res.arrayBuffer();
      if (res.status === 201) return void (mounted += 1);
      assert.equal(res.status, 202, `mount or start an upload on ${node.name}`);
      const url = new URL(res.headers.get('location')!, node.base);
      url.searchParams.set('digest', sha256(blob));
      const put = await fetch(url, {
        method: 'PUT',
        headers: { authorization, 'content-type': 'application/octet-stream' },
        body: new Uint8Array(blob),
      });
      assert.equal(put.status, 201, await put.text());
    };
    const linked = async (node: ClusterNode, repo: string, blob: Buffer) => {
      const res = await call(node.base, `/v2/${repo}/blobs/${sha256(blob)}`, {
        method: 'HEAD',
        headers: { authorization },
      });
      return res.status === 200;
    };

    const pushOne = async (node: ClusterNode, repo: string, tag: string, r: () => number) => {
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag, n: r() }));
      const layers = [shared[Math.floor(r() * shared.length)]!, shared[Math.floor(r() * shared.length)]!];
      const from = repoOf(Math.floor(r() * pushers.length));
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
      // As clients do: the blobs in parallel (layers mounted from a sibling repository when it has them).
      await Promise.all([
        putBlob(node, repo, config),
        ...layers.map((layer) => putBlob(node, repo, layer, from)),
      ]);
      for (let attempt = 0; ; attempt++) {
        const res = await call(node.base, `/v2/${repo}/manifests/${tag}`, {
          method: 'PUT',
          headers: { authorization, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
          body: manifest,
        });
        const text = await res.text();
        if (res.status === 201) return sha256(manifest);
        // With a zero window GC may unlink a just-uploaded blob before the manifest names it: the
        // registry refuses the manifest (it never accepts a broken one) and the client pushes the
        // blobs it no longer finds again.
        assert.equal(res.status, 400, text);
        assert.match(text, /MANIFEST_BLOB_UNKNOWN/);
        retries += 1;
        mostAttempts = Math.max(mostAttempts, attempt + 2);
        assert.ok(attempt < 40, `a push to ${repo} kept failing`);
        await Promise.all(
          [config, ...layers].map(async (blob) => {
            if (!(await linked(node, repo, blob))) await putBlob(node, repo, blob);
          }),
        );
      }
    };

    let failed = false;
    const pusher = async (node: ClusterNode, p: number) => {
      const r = prng(seed + 1 + p);
      const repo = repoOf(p);
      const tags = new Map<string, string>();
      expected.set(repo, tags);
      const pushed: string[] = [];
      for (let i = 0; i < imagesPerPusher && Date.now() - started < pushDeadlineMs && !failed; i++) {
        const digest = await pushOne(node, repo, `t${i}`, r);
        tags.set(`t${i}`, digest);
        pushed.push(`t${i}`);
        // A moving tag: the manifest it leaves is untagged, for delete_untagged to take.
        if (i % 3 === 1) tags.set('latest', await pushOne(node, repo, 'latest', r));
        if (i % 5 === 4) {
          // Delete an older image by digest: its layers become garbage in this repository.
          const victim = pushed.splice(Math.floor(r() * pushed.length), 1)[0]!;
          const digest = tags.get(victim)!;
          const del = await call(node.base, `/v2/${repo}/manifests/${digest}`, {
            method: 'DELETE',
            headers: { authorization },
          });
          assert.equal(del.status, 202, `delete ${repo}@${digest} on ${node.name}`);
          tags.delete(victim);
          deleted.push({ repo, digest });
        }
      }
    };

    const collector = async () => {
      while (!done) {
        const run = await runGc(gcRuns % 2 === 1);
        stats.deletedBlobs += run.result?.deletedBlobs ?? 0;
        stats.unlinkedBlobs += run.result?.unlinkedBlobs ?? 0;
        stats.deletedManifests += run.result?.deletedManifests ?? 0;
        gcRuns += 1;
        // Back-to-back runs with a zero window would starve pushes slower than a run (their fresh
        // links always look stale); a pause between runs lets each push through within a few tries.
        await sleep(gcPauseMs);
      }
    };

    const gc = collector();
    const pushed = await Promise.allSettled(
      pushers.map((node, p) =>
        pusher(node, p).catch((error: unknown) => {
          failed = true; // the others stop too, so that nothing is in flight when the nodes stop
          throw error;
        }),
      ),
    );
    done = true;
    await gc;
    for (const outcome of pushed) if (outcome.status === 'rejected') throw outcome.reason;
    const final = await runGc(true);
    stats.deletedBlobs += final.result?.deletedBlobs ?? 0;
    stats.deletedManifests += final.result?.deletedManifests ?? 0;
    const pushedMs = Date.now() - started;

    // Every tag each pusher last set resolves to its manifest on every node; deleted ones are gone.
    let images = 0;
    for (const [repo, tags] of expected) {
      for (const [tag, digest] of tags) {
        for (const node of cluster.nodes) {
          const got = await fetchManifest(node, repo, tag, authorization);
          assert.equal(got.status, 200, `${repo}:${tag} on ${node.name}`);
          assert.equal(got.digest, digest, `${repo}:${tag} on ${node.name}`);
        }
        images += 1;
      }
    }
    for (const { repo, digest } of deleted) {
      for (const node of cluster.nodes) {
        const got = await fetchManifest(node, repo, digest, authorization);
        assert.equal(got.status, 404, `deleted ${repo}@${digest} on ${node.name}`);
      }
    }
    // Then everything, pulled and hashed from every node, plus every link and every bucket object.
    const verified = await verifyCluster(cluster);
    const totalMs = Date.now() - started;

    assert.ok(gcRuns >= 3, `GC ran ${gcRuns} times`);
    assert.ok(stats.deletedBlobs > 0, 'GC did delete garbage while pushes went on');
    assert.ok(stats.deletedManifests > 0, 'delete_untagged removed the manifests the moving tag left');
    assert.ok(images >= pushers.length * 3, `${images} tagged images checked`);
    assert.equal(verified.repositories, pushers.length);
    assert.ok(verified.pulls >= images * 3 * 3, JSON.stringify(verified));
    // GC ran only on a, pushes only on b and c.
    const gcCalls = cluster.requests.filter((r) => r.path === '/api/v2.0/system/gc/schedule');
    assert.ok(gcCalls.length > 0 && gcCalls.every((r) => r.node === 'a'));
    console.log(
      `gc cluster: ${images} tagged images, ${deleted.length} deleted, ${gcRuns + 1} GC runs on a ` +
        `(${stats.deletedBlobs} blobs, ${stats.unlinkedBlobs} links, ${stats.deletedManifests} manifests), ` +
        `${mounted} mounts, ${retries} retried pushes (at most ${mostAttempts} tries); pushes ${pushedMs} ms, all ${totalMs} ms; ` +
        JSON.stringify(verified),
    );
  });
});
