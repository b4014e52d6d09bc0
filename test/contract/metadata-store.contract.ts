import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Digest } from '../../src/core/oci/digest.js';
import type { ManifestWrite, MetadataStore } from '../../src/core/ports.js';

export interface MetadataHarness {
  store: MetadataStore;
  dispose(): Promise<void>;
}

const digestOf = (n: number): Digest => `sha256:${n.toString(16).padStart(64, '0')}` as Digest;

function manifest(repository: string, n: number, extra: Partial<ManifestWrite> = {}): ManifestWrite {
  return {
    repository,
    digest: digestOf(n),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 100 + n,
    createdAt: new Date(1_700_000_000_000 + n),
    blobs: [],
    children: [],
    ...extra,
  };
}

/** The behaviour every MetadataStore must have; each backend's test file runs it with its own harness. */
export function metadataStoreContract(name: string, create: () => Promise<MetadataHarness>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let harness: MetadataHarness;
    let store: MetadataStore;
    before(async () => {
      harness = await create();
      store = harness.store;
    });
    after(async () => harness.dispose());

    it('links blobs per repository and creates the repository on first use', async () => {
      assert.equal(await store.repositories.exists('links/a'), false);
      await store.blobLinks.link('links/a', digestOf(1), 10);
      await store.blobLinks.link('links/a', digestOf(1), 10); // idempotent
      assert.equal(await store.repositories.exists('links/a'), true);
      assert.deepEqual(await store.blobLinks.get('links/a', digestOf(1)), { size: 10 });
      assert.equal(await store.blobLinks.get('links/b', digestOf(1)), undefined);
      assert.deepEqual(await store.blobLinks.missing('links/a', [digestOf(1), digestOf(2)]), [digestOf(2)]);
      await store.blobLinks.link('links/b', digestOf(1), 10);
      assert.deepEqual((await store.blobLinks.repositoriesHolding(digestOf(1), 10)).sort(), ['links/a', 'links/b']);
      assert.equal(await store.blobLinks.unlink('links/a', digestOf(1)), true);
      assert.equal(await store.blobLinks.unlink('links/a', digestOf(1)), false);
    });

    it('stores manifests with their fields and finds referrers', async () => {
      const repo = 'manifests/app';
      await store.manifests.put(manifest(repo, 10, { annotations: { a: 'b' }, artifactType: 'application/x-thing' }));
      await store.manifests.put(manifest(repo, 11, { subject: digestOf(10), artifactType: 'application/x-sig' }));
      await store.manifests.put(manifest(repo, 12, { subject: digestOf(10), artifactType: 'application/x-sbom' }));
      const got = await store.manifests.get(repo, digestOf(10));
      assert.deepEqual(got, {
        repository: repo,
        digest: digestOf(10),
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 110,
        createdAt: new Date(1_700_000_000_010),
        annotations: { a: 'b' },
        artifactType: 'application/x-thing',
      });
      assert.deepEqual(
        (await store.manifests.referrers(repo, digestOf(10))).map((m) => m.digest),
        [digestOf(11), digestOf(12)],
      );
      assert.deepEqual(
        (await store.manifests.referrers(repo, digestOf(10), 'application/x-sbom')).map((m) => m.digest),
        [digestOf(12)],
      );
      assert.deepEqual(await store.manifests.referrers(repo, digestOf(99)), []);
      assert.deepEqual(await store.manifests.missing(repo, [digestOf(10), digestOf(13)]), [digestOf(13)]);
    });

    it('moves tags, lists them in byte order with paging, and drops them with their manifest', async () => {
      const repo = 'tags/app';
      await store.manifests.put(manifest(repo, 20));
      await store.manifests.put(manifest(repo, 21));
      const at = new Date(1_700_000_000_000);
      assert.equal(await store.tags.set(repo, 'b', digestOf(20), at), undefined);
      assert.equal(await store.tags.set(repo, 'b', digestOf(21), at), digestOf(20));
      for (const tag of ['a', 'B', 'c', '1.0']) await store.tags.set(repo, tag, digestOf(20), at);
      assert.equal(await store.tags.resolve(repo, 'b'), digestOf(21));
      assert.deepEqual(await store.tags.list(repo, { limit: 100 }), ['1.0', 'B', 'a', 'b', 'c']);
      assert.deepEqual(await store.tags.list(repo, { limit: 2, last: 'B' }), ['a', 'b']);
      assert.deepEqual(await store.tags.listFor(repo, digestOf(20)), ['1.0', 'B', 'a', 'c']);
      assert.equal(await store.tags.delete(repo, 'c'), true);
      assert.equal(await store.tags.delete(repo, 'c'), false);
      assert.equal(await store.manifests.delete(repo, digestOf(20)), true);
      assert.deepEqual(await store.tags.list(repo, { limit: 100 }), ['b'], 'tags of a deleted manifest go with it');
      assert.equal(await store.tags.deleteFor(repo, digestOf(21)), 1);
    });

    it('refuses a tag pointing at a manifest the repository does not have', async () => {
      await store.blobLinks.link('tags/orphan', digestOf(1), 1);
      await assert.rejects(store.tags.set('tags/orphan', 'x', digestOf(404), new Date()));
      assert.equal(await store.tags.resolve('tags/orphan', 'x'), undefined);
    });

    it('lists repositories in byte order with paging', async () => {
      for (const repo of ['cat/z', 'cat/a', 'cat/m']) await store.blobLinks.link(repo, digestOf(1), 1);
      const all = await store.repositories.list({ limit: 1000 });
      const cats = all.filter((r) => r.startsWith('cat/'));
      assert.deepEqual(cats, ['cat/a', 'cat/m', 'cat/z']);
      assert.deepEqual(await store.repositories.list({ limit: 1, last: 'cat/a' }), ['cat/m']);
    });

    it('commits a transaction as a whole and rolls it back when it throws', async () => {
      const repo = 'tx/app';
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.manifests.put(manifest(repo, 30));
          await tx.tags.set(repo, 'latest', digestOf(30), new Date());
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      assert.equal(await store.manifests.get(repo, digestOf(30)), undefined);
      assert.equal(await store.tags.resolve(repo, 'latest'), undefined);
      await store.transaction(async (tx) => {
        await tx.manifests.put(manifest(repo, 30));
        await tx.tags.set(repo, 'latest', digestOf(30), new Date());
      });
      assert.equal(await store.tags.resolve(repo, 'latest'), digestOf(30));
    });

    it('keeps concurrent transactions from interleaving', async () => {
      const repo = 'tx/counter';
      await store.manifests.put(manifest(repo, 40));
      await store.tags.set(repo, 'n0', digestOf(40), new Date());
      // Each transaction reads the highest tag and writes the next; interleaving would lose increments.
      await Promise.all(
        Array.from({ length: 20 }, () =>
          store.transaction(async (tx) => {
            const tags = await tx.tags.list(repo, { limit: 1000 });
            const next = Math.max(...tags.map((t) => Number(t.slice(1)))) + 1;
            await new Promise((r) => setImmediate(r));
            await tx.tags.set(repo, `n${next}`, digestOf(40), new Date());
          }),
        ),
      );
      assert.equal((await store.tags.list(repo, { limit: 1000 })).length, 21);
    });

    it('keeps upload sessions', async () => {
      const startedAt = new Date(1_600_000_000_000);
      await store.uploads.create({ id: 'u1', repository: 'up/app', startedAt });
      assert.deepEqual(await store.uploads.get('u1'), { id: 'u1', repository: 'up/app', startedAt });
      assert.deepEqual(
        (await store.uploads.listStartedBefore(new Date(1_600_000_000_001), 10)).map((s) => s.id),
        ['u1'],
      );
      assert.equal(await store.uploads.delete('u1'), true);
      assert.equal(await store.uploads.get('u1'), undefined);
    });
  });
}
