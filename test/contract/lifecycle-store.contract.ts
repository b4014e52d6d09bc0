import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/core/oci/digest.js';
import type { MetadataHarness } from './metadata-store.contract.js';

const d = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}` as Digest;
const t0 = new Date('2030-01-01T00:00:00Z');
const later = new Date('2031-01-01T00:00:00Z');
const manifest = (repository: string, digest: Digest, blobs: Digest[], extra: object = {}) => ({
  repository,
  digest,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  size: 10,
  createdAt: t0,
  blobs,
  children: [],
  ...extra,
});

/** The jobs, GC and quota sub-stores, run against every MetadataStore implementation. */
export function lifecycleStoreContract(name: string, open: () => Promise<MetadataHarness>): void {
  describe(`${name}: lifecycle stores`, () => {
    const withStore = (fn: (h: MetadataHarness) => Promise<void>) => async () => {
      const h = await open();
      try {
        await fn(h);
      } finally {
        await h.dispose();
      }
    };

    it(
      'keeps job runs, logs, schedules and one lease per kind',
      withStore(async ({ store }) => {
        const run = await store.jobs.createRun({
          kind: 'gc',
          trigger: 'Manual',
          status: 'Running',
          parameters: { a: 1 },
          at: t0,
        });
        assert.equal(run.status, 'Running');
        assert.deepEqual(run.startedAt, t0);
        await store.jobs.appendLog(run.id, 'one\n');
        await store.jobs.appendLog(run.id, 'two\n');
        assert.equal(await store.jobs.log(run.id), 'one\ntwo\n');
        assert.equal(
          await store.jobs.updateRun(run.id, { status: 'Success', result: { n: 2 }, endedAt: later }, later),
          true,
        );
        assert.equal(
          await store.jobs.updateRun(run.id, { status: 'Error' }, later),
          false,
          'an ended run stays ended',
        );
        const stored = await store.jobs.getRun(run.id);
        assert.equal(stored?.status, 'Success');
        assert.deepEqual(stored?.result, { n: 2 });
        const second = await store.jobs.createRun({
          kind: 'gc',
          trigger: 'Schedule',
          status: 'Running',
          parameters: {},
          at: t0,
        });
        await store.jobs.createRun({
          kind: 'other',
          trigger: 'Manual',
          status: 'Running',
          parameters: {},
          at: t0,
        });
        const page = await store.jobs.listRuns('gc', { offset: 0, limit: 1 });
        assert.equal(page.total, 2);
        assert.equal(page.items[0]?.id, second.id, 'newest first');
        assert.equal(await store.jobs.interruptRuns('gc', later), 1);
        assert.equal((await store.jobs.getRun(second.id))?.status, 'Interrupted');

        assert.equal(await store.jobs.getSchedule('gc'), undefined);
        await store.jobs.putSchedule({
          kind: 'gc',
          type: 'Custom',
          cron: '0 0 * * * *',
          parameters: { dry_run: true },
          updatedAt: t0,
        });
        assert.deepEqual(await store.jobs.getSchedule('gc'), {
          kind: 'gc',
          type: 'Custom',
          cron: '0 0 * * * *',
          parameters: { dry_run: true },
          updatedAt: t0,
        });
        assert.equal(await store.jobs.claimFire('gc', t0), true);
        assert.equal(await store.jobs.claimFire('gc', t0), false, 'a firing is claimed once');
        assert.equal(await store.jobs.claimFire('gc', later), true);

        const lease = await store.jobs.tryLock('gc');
        assert.ok(lease);
        assert.equal(await store.jobs.tryLock('gc'), undefined);
        const otherKind = await store.jobs.tryLock('upload-purge');
        assert.ok(otherKind);
        await lease.release();
        const again = await store.jobs.tryLock('gc');
        assert.ok(again);
        await again.release();
        await otherKind.release();
      }),
    );

    it(
      'finds unreferenced digests, condemns them and refuses pins while condemned',
      withStore(async ({ store }) => {
        await store.blobLinks.link('p/a', d(1), 100);
        await store.manifests.put(manifest('p/a', d(2), [d(1)]));
        await store.blobLinks.link('p/a', d(2), 10);
        assert.deepEqual(await store.gc.unreferenced([d(1), d(2), d(3), d(4)], t0), [d(3), d(4)]);
        assert.equal(await store.gc.pin(d(4), 'h1', t0, t0), true);
        assert.deepEqual(
          await store.gc.unreferenced([d(3), d(4)], t0),
          [d(3)],
          'a live pin keeps the digest',
        );
        assert.deepEqual(
          await store.gc.unreferenced([d(3), d(4)], later),
          [d(3), d(4)],
          'an old pin does not',
        );
        assert.deepEqual(await store.gc.condemn([d(3), d(4), d(1)], t0, t0), [d(3)]);
        assert.equal(await store.gc.pin(d(3), 'h2', t0, t0), false, 'condemned');
        assert.equal(await store.gc.pin(d(3), 'h2', later, later), true, 'a stale tombstone does not block');
        await store.gc.unpin('h2');
        await store.gc.release([d(3)]);
        assert.equal(await store.gc.pin(d(3), 'h3', t0, t0), true);
        await store.gc.unpin('h1');
        await store.gc.unpin('h3');
        assert.deepEqual(await store.gc.unreferenced([d(3), d(4)], t0), [d(3), d(4)]);
        assert.deepEqual(await store.gc.condemn([d(5)], t0, t0), [d(5)]);
        assert.equal(await store.gc.clearTombstones(later), 1);
        assert.equal(await store.gc.pin(d(5), 'h4', t0, t0), true);
        assert.equal(await store.gc.purgePins(later), 1);
      }),
    );

    it(
      'removes stale links and untagged manifests only after re-checking them',
      withStore(async ({ store }) => {
        await store.blobLinks.link('p/a', d(1), 100);
        await store.blobLinks.link('p/a', d(9), 7); // referenced by nothing
        await store.manifests.put(manifest('p/a', d(2), [d(1)]));
        await store.blobLinks.link('p/a', d(2), 10);
        await store.tags.set('p/a', 'v1', d(2), t0);
        await store.manifests.put(manifest('p/a', d(3), [d(1)]));
        await store.blobLinks.link('p/a', d(3), 10);
        await store.manifests.put(manifest('p/a', d(4), [], { subject: d(2) })); // referrer of a tagged one
        await store.blobLinks.link('p/a', d(4), 10);
        const stale = await store.gc.staleLinks(later, 100);
        assert.deepEqual(stale, [{ repository: 'p/a', digest: d(9), size: 7 }]);
        assert.deepEqual(await store.gc.staleLinks(new Date(0), 100), [], 'inside the window');
        assert.equal(await store.gc.unlinkStale('p/a', d(1), later), false, 'referenced');
        assert.equal(await store.gc.unlinkStale('p/a', d(9), later), true);
        const untagged = await store.gc.untagged(later);
        assert.deepEqual(
          untagged.map((m) => [m.digest, m.subjectPresent, m.parents]),
          [
            [d(3), false, []],
            [d(4), true, []],
          ],
        );
        assert.equal(await store.gc.deleteUntagged('p/a', d(4), later), false, 'its subject survives');
        assert.equal(await store.gc.deleteUntagged('p/a', d(3), t0), false, 'inside the window');
        assert.equal(await store.gc.deleteUntagged('p/a', d(3), later), true);
        assert.equal(await store.manifests.get('p/a', d(3)), undefined);
        assert.equal(await store.blobLinks.get('p/a', d(3)), undefined, 'its own link went with it');
        assert.equal(await store.gc.deleteUntagged('p/a', d(2), later), false, 'tagged');
      }),
    );

    it(
      'counts each blob once per project through links, unlinks and repository deletes',
      withStore(async ({ store }) => {
        await store.blobLinks.link('p/a', d(1), 100);
        await store.blobLinks.link('p/a', d(1), 100);
        await store.blobLinks.link('p/b', d(1), 100);
        await store.blobLinks.link('p/b', d(2), 20);
        await store.blobLinks.link('q/a', d(1), 100);
        await store.blobLinks.link('bare', d(3), 1000);
        assert.equal(await store.quotas.usage('p'), 120);
        assert.equal(await store.quotas.usage('q'), 100);
        await store.blobLinks.unlink('p/a', d(1));
        assert.equal(await store.quotas.usage('p'), 120, 'still linked in p/b');
        await store.repositories.delete('p/b');
        assert.equal(await store.quotas.usage('p'), 0);
        await store.transaction(async (tx) => {
          await tx.blobLinks.link('p/c', d(4), 5);
          assert.equal(await tx.quotas.usage('p'), 5, 'seen inside the transaction');
        });
        await store
          .transaction(async (tx) => {
            await tx.blobLinks.link('p/c', d(5), 50);
            throw new Error('rolled back');
          })
          .catch(() => undefined);
        assert.equal(await store.quotas.usage('p'), 5);
        assert.deepEqual(await store.quotas.recount(), []);
      }),
    );
  });
}
