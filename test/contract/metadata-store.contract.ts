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
      assert.deepEqual((await store.blobLinks.repositoriesHolding(digestOf(1), 10)).sort(), [
        'links/a',
        'links/b',
      ]);
      assert.equal(await store.blobLinks.unlink('links/a', digestOf(1)), true);
      assert.equal(await store.blobLinks.unlink('links/a', digestOf(1)), false);
    });

    it('stores manifests with their fields and finds referrers', async () => {
      const repo = 'manifests/app';
      await store.manifests.put(
        manifest(repo, 10, { annotations: { a: 'b' }, artifactType: 'application/x-thing' }),
      );
      await store.manifests.put(
        manifest(repo, 11, { subject: digestOf(10), artifactType: 'application/x-sig' }),
      );
      await store.manifests.put(
        manifest(repo, 12, { subject: digestOf(10), artifactType: 'application/x-sbom' }),
      );
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
      assert.deepEqual(
        await store.tags.list(repo, { limit: 100 }),
        ['b'],
        'tags of a deleted manifest go with it',
      );
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

    it('rolls back only the failing one of concurrent transactions', async () => {
      const repo = 'tx/mixed';
      const outcomes = await Promise.allSettled(
        [50, 51, 52, 53].map((n) =>
          store.transaction(async (tx) => {
            await tx.manifests.put(manifest(repo, n));
            await tx.tags.set(repo, `t${n}`, digestOf(n), new Date());
            if (n === 51) throw new Error('this one fails');
            return n;
          }),
        ),
      );
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
      );
      assert.deepEqual(await store.tags.list(repo, { limit: 10 }), ['t50', 't52', 't53']);
      assert.equal(await store.manifests.get(repo, digestOf(51)), undefined);
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

    it('summarises the repositories of a project, by name, with paging, a substring filter and totals', async () => {
      for (const repo of ['proj/b', 'proj/c/d', 'proj0/x', 'proj-x/y', 'projx/z', 'pro/j', 'proj'])
        await store.blobLinks.link(repo, digestOf(1), 1);
      await store.manifests.put(manifest('proj/a', 80));
      await store.manifests.put(manifest('proj/a', 82));
      await store.manifests.put(manifest('proj/a', 81));
      const first = await store.repositories.listInProject('proj', { offset: 0, limit: 2 });
      assert.equal(first.total, 3);
      assert.deepEqual(
        first.items.map((r) => r.name),
        ['proj/a', 'proj/b'],
      );
      const [a, b] = first.items;
      assert.equal(a?.artifactCount, 3);
      assert.equal(a?.pullCount, 0);
      assert.deepEqual(a?.updatedAt, new Date(1_700_000_000_082), 'updatedAt is the latest push');
      assert.ok(a?.createdAt instanceof Date);
      assert.equal(b?.artifactCount, 0);
      assert.ok(b?.createdAt instanceof Date);
      assert.deepEqual(b?.updatedAt, b?.createdAt, 'without manifests, updatedAt is the creation');
      assert.deepEqual(await store.repositories.listInProject('proj', { offset: 2, limit: 2 }), {
        items: [await store.repositories.get('proj/c/d')],
        total: 3,
      });
      assert.deepEqual(await store.repositories.listInProject('proj', { offset: 3, limit: 2 }), {
        items: [],
        total: 3,
      });
      const filtered = await store.repositories.listInProject('proj', { offset: 0, limit: 10, q: 'c/' });
      assert.deepEqual(
        filtered.items.map((r) => r.name),
        ['proj/c/d'],
      );
      assert.equal(filtered.total, 1);
      assert.deepEqual(await store.repositories.listInProject('proj', { offset: 0, limit: 10, q: 'zzz' }), {
        items: [],
        total: 0,
      });
      assert.deepEqual(await store.repositories.listInProject('nothing', { offset: 0, limit: 10 }), {
        items: [],
        total: 0,
      });
      assert.deepEqual(await store.repositories.get('proj/a'), a);
      assert.equal(await store.repositories.get('proj/none'), undefined);
    });

    it('treats LIKE wildcards in a project name literally', async () => {
      for (const repo of ['p_j/a', 'pxj/b', 'p%j/c', 'pj/d', 'p_j0/e'])
        await store.blobLinks.link(repo, digestOf(1), 1);
      const underscore = await store.repositories.listInProject('p_j', { offset: 0, limit: 10 });
      assert.deepEqual(
        underscore.items.map((r) => r.name),
        ['p_j/a'],
      );
      assert.equal(underscore.total, 1);
      const percent = await store.repositories.listInProject('p%j', { offset: 0, limit: 10, q: '%' });
      assert.deepEqual(
        percent.items.map((r) => r.name),
        ['p%j/c'],
      );
      const q = await store.repositories.listInProject('p_j', { offset: 0, limit: 10, q: '_' });
      assert.deepEqual(
        q.items.map((r) => r.name),
        ['p_j/a'],
      );
    });

    it('records pulls in batches: latest time and count per manifest, summed per repository', async () => {
      const repo = 'pulls/app';
      await store.manifests.put(manifest(repo, 90));
      await store.manifests.put(manifest(repo, 91));
      assert.equal((await store.manifests.get(repo, digestOf(90)))?.pulledAt, undefined);
      const t = (n: number) => new Date(1_700_000_100_000 + n);
      await store.manifests.recordPulls([
        { repository: repo, digest: digestOf(90), at: t(5) },
        { repository: repo, digest: digestOf(90), at: t(9) },
        { repository: repo, digest: digestOf(91), at: t(1) },
        { repository: repo, digest: digestOf(90), at: t(7) },
        { repository: repo, digest: digestOf(404), at: t(1) }, // gone: ignored
        { repository: 'pulls/none', digest: digestOf(90), at: t(1) },
      ]);
      await store.manifests.recordPulls([]);
      assert.deepEqual((await store.manifests.get(repo, digestOf(90)))?.pulledAt, t(9));
      assert.deepEqual((await store.manifests.get(repo, digestOf(91)))?.pulledAt, t(1));
      assert.equal((await store.repositories.get(repo))?.pullCount, 4);
      // An older pull counts but does not move the time back.
      await store.manifests.recordPulls([{ repository: repo, digest: digestOf(90), at: t(2) }]);
      assert.deepEqual((await store.manifests.get(repo, digestOf(90)))?.pulledAt, t(9));
      assert.equal((await store.repositories.get(repo))?.pullCount, 5);
      assert.deepEqual(
        (await store.manifests.list(repo, { offset: 0, limit: 10 })).items.map((m) => m.pulledAt),
        [t(1), t(9)],
      );
      // Concurrent batches lose no increment.
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.manifests.recordPulls([
            { repository: repo, digest: digestOf(91), at: t(10 + i) },
            { repository: repo, digest: digestOf(90), at: t(10 + i) },
          ]),
        ),
      );
      assert.equal((await store.repositories.get(repo))?.pullCount, 25);
      assert.deepEqual((await store.manifests.get(repo, digestOf(91)))?.pulledAt, t(19));
      // Inside a transaction, rolled back with it.
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.manifests.recordPulls([{ repository: repo, digest: digestOf(90), at: t(100) }]);
          throw new Error('undo');
        }),
        /undo/,
      );
      assert.equal((await store.repositories.get(repo))?.pullCount, 25);
    });

    it('lists manifests newest push first with paging, and finds the children and parents of indexes', async () => {
      const repo = 'list/app';
      await store.manifests.put(manifest(repo, 50, { blobs: [digestOf(900)] }));
      await store.manifests.put(manifest(repo, 51));
      await store.manifests.put(manifest(repo, 53, { createdAt: new Date(1_700_000_000_052) })); // ties with 52
      await store.manifests.put(manifest(repo, 52));
      await store.manifests.put(
        manifest(repo, 60, { children: [digestOf(51), digestOf(50)], blobs: [digestOf(901)] }),
      );
      await store.manifests.put(manifest(repo, 61, { children: [digestOf(50)] }));
      await store.manifests.put(manifest('list/other', 62, { children: [digestOf(50)] }));
      const all = await store.manifests.list(repo, { offset: 0, limit: 100 });
      assert.equal(all.total, 6);
      assert.deepEqual(
        all.items.map((m) => m.digest),
        [61, 60, 52, 53, 51, 50].map(digestOf),
        'newest push first, ties by digest',
      );
      assert.deepEqual(all.items[5], {
        repository: repo,
        digest: digestOf(50),
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 150,
        createdAt: new Date(1_700_000_000_050),
      });
      const page = await store.manifests.list(repo, { offset: 1, limit: 2 });
      assert.deepEqual(
        page.items.map((m) => m.digest),
        [digestOf(60), digestOf(52)],
      );
      assert.equal(page.total, 6);
      assert.deepEqual(await store.manifests.list(repo, { offset: 6, limit: 2 }), { items: [], total: 6 });
      assert.deepEqual(await store.manifests.list('list/none', { offset: 0, limit: 2 }), {
        items: [],
        total: 0,
      });

      assert.deepEqual(await store.manifests.children(repo, digestOf(60)), [digestOf(50), digestOf(51)]);
      assert.deepEqual(await store.manifests.children(repo, digestOf(50)), [], 'blobs are not children');
      assert.deepEqual(await store.manifests.children(repo, digestOf(404)), []);
      assert.deepEqual(await store.manifests.parents(repo, digestOf(50)), [digestOf(60), digestOf(61)]);
      assert.deepEqual(await store.manifests.parents(repo, digestOf(51)), [digestOf(60)]);
      assert.deepEqual(await store.manifests.parents(repo, digestOf(60)), []);
      assert.deepEqual(await store.manifests.parents(repo, digestOf(900)), [], 'a blob has no parent index');
      assert.deepEqual(await store.manifests.parents('list/other', digestOf(50)), [digestOf(62)]);
      assert.equal(await store.manifests.delete(repo, digestOf(61)), true);
      assert.deepEqual(await store.manifests.parents(repo, digestOf(50)), [digestOf(60)]);
      assert.equal((await store.repositories.get(repo))?.artifactCount, 5);
    });

    it('deletes a repository with its manifests, tags and blob links', async () => {
      const repo = 'gone/app';
      await store.blobLinks.link(repo, digestOf(1), 1);
      await store.manifests.put(manifest(repo, 70, { blobs: [digestOf(1)] }));
      await store.manifests.put(manifest(repo, 71, { children: [digestOf(70)] }));
      await store.tags.set(repo, 'latest', digestOf(71), new Date(1_700_000_000_000));
      await store.manifests.recordPulls([{ repository: repo, digest: digestOf(70), at: new Date() }]);
      await store.manifests.put(manifest('gone/app/sub', 70));
      await store.tags.set('gone/app/sub', 'latest', digestOf(70), new Date(1_700_000_000_000));

      // A rolled-back delete leaves everything.
      await assert.rejects(
        store.transaction(async (tx) => {
          assert.equal(await tx.repositories.delete(repo), true);
          throw new Error('keep it');
        }),
        /keep it/,
      );
      assert.equal(await store.tags.resolve(repo, 'latest'), digestOf(71));

      assert.equal(await store.repositories.delete(repo), true);
      assert.equal(await store.repositories.delete(repo), false);
      assert.equal(await store.repositories.exists(repo), false);
      assert.equal(await store.repositories.get(repo), undefined);
      assert.equal(await store.manifests.get(repo, digestOf(70)), undefined);
      assert.equal(await store.tags.resolve(repo, 'latest'), undefined);
      assert.equal(await store.blobLinks.get(repo, digestOf(1)), undefined);
      assert.ok(!(await store.blobLinks.repositoriesHolding(digestOf(1), 1000)).includes(repo));
      assert.equal(await store.repositories.delete('gone/none'), false);

      // Other repositories, even ones whose name extends it, keep theirs.
      assert.equal(await store.tags.resolve('gone/app/sub', 'latest'), digestOf(70));

      // The name can be used again, from nothing.
      await store.blobLinks.link(repo, digestOf(2), 2);
      assert.deepEqual(await store.manifests.list(repo, { offset: 0, limit: 10 }), { items: [], total: 0 });
      assert.deepEqual(await store.tags.list(repo, { limit: 10 }), []);
      assert.deepEqual(await store.manifests.children(repo, digestOf(71)), []);
      assert.equal((await store.repositories.get(repo))?.pullCount, 0);
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
