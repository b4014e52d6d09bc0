import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RetentionPolicy } from '../../src/core/lifecycle/retention/model.js';
import type { Digest } from '../../src/core/oci/digest.js';
import type { MetadataStore } from '../../src/core/ports.js';
import type { MetadataHarness } from './metadata-store.contract.js';

const t = (n: number): Date => new Date(1_700_000_000_000 + n * 1000);
const digestOf = (n: number): Digest => `sha256:${n.toString(16).padStart(64, '0')}` as Digest;

const policy = (ref: number): RetentionPolicy => ({
  algorithm: 'or',
  rules: [
    {
      id: 1,
      priority: 0,
      disabled: false,
      action: 'retain',
      template: 'latestPushedK',
      params: { latestPushedK: 3 },
      tag_selectors: [
        { kind: 'doublestar', decoration: 'matches', pattern: '**', extras: '{"untagged":true}' },
      ],
      scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
    },
  ],
  trigger: { kind: 'Schedule', settings: { cron: '0 0 0 * * *' } },
  scope: { level: 'project', ref },
});

/** Retention policies, executions, tasks, artifact reads and immutable tag rules, on every backend. */
export function retentionStoreContract(name: string, create: () => Promise<MetadataHarness>): void {
  describe(`MetadataStore retention contract: ${name}`, () => {
    let harness: MetadataHarness;
    let store: MetadataStore;
    let projectId: number;
    before(async () => {
      harness = await create();
      store = harness.store;
      const created = await store.projects.create(
        { name: 'rc', ownerId: 1, public: false, metadata: {}, storageLimit: -1 },
        t(0),
      );
      assert.ok(created.ok);
      projectId = created.value.id;
    });
    after(async () => harness.dispose());

    it('stores, updates, lists and deletes policies with their executions and tasks', async () => {
      const stored = await store.retention.createPolicy(projectId, policy(projectId), t(1));
      assert.deepEqual(await store.retention.getPolicy(stored.id), stored);
      const changed = { ...policy(projectId), trigger: { kind: 'Schedule', settings: { cron: '' } } };
      assert.equal(await store.retention.updatePolicy(stored.id, changed, t(2)), true);
      assert.deepEqual((await store.retention.getPolicy(stored.id))?.policy, changed);
      assert.deepEqual(
        (await store.retention.listPolicies()).map((p) => p.id),
        [stored.id],
      );

      const e1 = await store.retention.createExecution({
        policyId: stored.id,
        status: 'Running',
        trigger: 'MANUAL',
        dryRun: true,
        startTime: t(3),
      });
      const e2 = await store.retention.createExecution({
        policyId: stored.id,
        status: 'Running',
        trigger: 'SCHEDULE',
        dryRun: false,
        startTime: t(4),
      });
      assert.equal(await store.retention.finishExecution(e1.id, 'Success', t(5)), true);
      assert.equal(await store.retention.finishExecution(e1.id, 'Stopped', t(6)), false, 'already ended');
      assert.deepEqual(await store.retention.getExecution(e1.id), {
        ...e1,
        status: 'Success',
        endTime: t(5),
      });
      const page = await store.retention.listExecutions(stored.id, { offset: 0, limit: 1 });
      assert.deepEqual([page.items.map((e) => e.id), page.total], [[e2.id], 2]);

      const task = await store.retention.createTask({
        executionId: e1.id,
        repository: 'rc/app',
        status: 'Running',
        startTime: t(3),
        total: 0,
        retained: 0,
      });
      assert.equal(
        await store.retention.updateTask(task.id, {
          status: 'Success',
          endTime: t(4),
          total: 5,
          retained: 2,
          log: 'L',
        }),
        true,
      );
      assert.deepEqual(await store.retention.getTask(task.id), {
        ...task,
        status: 'Success',
        endTime: t(4),
        total: 5,
        retained: 2,
      });
      assert.equal(await store.retention.taskLog(task.id), 'L');
      assert.equal((await store.retention.listTasks(e1.id, { offset: 0, limit: 10 })).total, 1);

      assert.equal(await store.retention.deletePolicy(stored.id), true);
      assert.equal(await store.retention.getExecution(e1.id), undefined);
      assert.equal(await store.retention.getTask(task.id), undefined);
      assert.equal(await store.retention.deletePolicy(stored.id), false);
    });

    it('reads a repository’s artifacts with tags, tag times and index references', async () => {
      await store.blobLinks.link('rc/app', digestOf(9), 1);
      const base = { repository: 'rc/app', mediaType: 'm', size: 1, blobs: [digestOf(9)], children: [] };
      await store.manifests.put({ ...base, digest: digestOf(1), createdAt: t(1) });
      await store.manifests.put({
        ...base,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest: digestOf(2),
        createdAt: t(2),
        blobs: [],
        children: [digestOf(1)],
      });
      await store.tags.set('rc/app', 'b', digestOf(2), t(5));
      await store.tags.set('rc/app', 'a', digestOf(2), t(3));
      await store.manifests.recordPulls([{ repository: 'rc/app', digest: digestOf(2), at: t(7) }]);
      const artifacts = await store.retention.artifacts('rc/app');
      assert.deepEqual(
        artifacts.map((a) => ({ ...a, mediaType: undefined })),
        [
          {
            digest: digestOf(2),
            mediaType: undefined,
            createdAt: t(2),
            pulledAt: t(7),
            tags: [
              { name: 'a', updatedAt: t(3) },
              { name: 'b', updatedAt: t(5) },
            ],
            referenced: false,
          },
          { digest: digestOf(1), mediaType: undefined, createdAt: t(1), tags: [], referenced: true },
        ],
      );
      assert.deepEqual(await store.retention.artifacts('rc/none'), []);
    });

    it('stores immutable tag rules per project', async () => {
      const spec = {
        priority: 0,
        disabled: false,
        action: 'immutable',
        template: 'immutable_template',
        params: {},
        tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v*' }],
        scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
      };
      const a = await store.immutableRules.create(projectId, spec);
      const b = await store.immutableRules.create(projectId, { ...spec, disabled: true });
      assert.deepEqual(await store.immutableRules.list(projectId), [a, b]);
      assert.deepEqual(await store.immutableRules.get(projectId, a.id), a);
      assert.equal(await store.immutableRules.get(projectId + 1000, a.id), undefined);
      assert.equal(await store.immutableRules.update(projectId, a.id, { ...spec, priority: 3 }), true);
      assert.equal((await store.immutableRules.get(projectId, a.id))?.priority, 3);
      assert.equal(await store.immutableRules.delete(projectId, b.id), true);
      assert.equal(await store.immutableRules.delete(projectId, b.id), false);
      await store.projects.delete(projectId);
      assert.deepEqual(await store.immutableRules.list(projectId), [], 'rules go with their project');
    });
  });
}
