// Retention over the management API with real deletions: policy CRUD, dry runs, executions, task logs,
// the per-repository call of the seed workflow, immutable skips and permissions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBerth } from '../support/berth.js';
import {
  adminPassword,
  Api,
  basic,
  createProject,
  createUser,
  expectStatus,
  pushImage,
  startApiBerth,
} from '../api/support.js';

interface Execution {
  id: number;
  status: string;
  dry_run: boolean;
  trigger: string;
}

const repoScope = (pattern: string, decoration = 'repoMatches') => ({
  repository: [{ kind: 'doublestar', decoration, pattern }],
});

async function waitForExecution(api: Api, policyId: number, executionId: number): Promise<Execution> {
  for (let i = 0; i < 200; i++) {
    const list = expectStatus(await api.get(`/retentions/${policyId}/executions`), 200).body as Execution[];
    const execution = list.find((e) => e.id === executionId);
    if (execution !== undefined && execution.status !== 'Running') return execution;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the execution did not end');
}

async function tagsIn(api: Api, project: string, repo: string): Promise<string[]> {
  const res = expectStatus(
    await api.get(`/projects/${project}/repositories/${repo}/artifacts?page_size=100`),
    200,
  );
  return (res.body as { tags: { name: string }[] | null; digest: string }[])
    .map((a) => (a.tags ?? []).map((t) => t.name).join('+') || 'untagged')
    .sort();
}

async function run(api: Api, policyId: number, dryRun: boolean): Promise<Execution> {
  const res = expectStatus(await api.post(`/retentions/${policyId}/executions`, { dry_run: dryRun }), 201);
  const id = Number(/\/executions\/(\d+)$/.exec(res.headers.get('location') ?? '')?.[1]);
  return waitForExecution(api, policyId, id);
}

describe('retention over the API', () => {
  let berth: TestBerth;
  let admin: Api;
  let auth: string;
  let projectId: number;
  let policyId: number;

  before(async () => {
    berth = await startApiBerth();
    admin = Api.as(berth.base, 'admin', adminPassword);
    auth = basic('admin', adminPassword);
    projectId = await createProject(admin, 'ret');
    for (const tag of ['v1', 'v2', 'v3', 'dev']) await pushImage(berth.base, auth, 'ret/app', tag);
    await pushImage(berth.base, auth, 'ret/app', undefined); // untagged
    await pushImage(berth.base, auth, 'ret/other', 'v1');
    await pushImage(berth.base, auth, 'ret/other', 'v2');
  });
  after(() => berth.dispose());

  it('answers the metadata with the five templates and both selector kinds', async () => {
    const body = expectStatus(await admin.get('/retentions/metadatas'), 200).body as {
      templates: { rule_template: string }[];
      tag_selectors: { kind: string; decorations: string[] }[];
    };
    assert.deepEqual(
      body.templates.map((t) => t.rule_template),
      ['latestPushedK', 'latestPulledN', 'nDaysSinceLastPush', 'nDaysSinceLastPull', 'always'],
    );
    assert.deepEqual(
      body.tag_selectors.map((s) => [s.kind, s.decorations]),
      [
        ['doublestar', ['matches', 'excludes']],
        ['regex', ['matches', 'excludes']],
      ],
    );
  });

  it('creates the project policy (201, Location, retention_id in the project metadata); a second is 409', async () => {
    const policy = {
      algorithm: 'or',
      rules: [
        {
          action: 'retain',
          template: 'latestPushedK',
          params: { latestPushedK: 2 },
          tag_selectors: [
            { kind: 'doublestar', decoration: 'matches', pattern: 'v*', extras: '{"untagged":false}' },
          ],
          scope_selectors: repoScope('app'),
        },
      ],
      trigger: { kind: 'Schedule', settings: { cron: '' } },
      scope: { level: 'project', ref: projectId },
    };
    const res = expectStatus(await admin.post('/retentions', policy), 201);
    policyId = Number(/\/api\/v2\.0\/retentions\/(\d+)$/.exec(res.headers.get('location') ?? '')?.[1]);
    assert.ok(policyId > 0);
    const project = expectStatus(await admin.get('/projects/ret'), 200).body as {
      metadata: Record<string, string>;
    };
    assert.equal(project.metadata.retention_id, String(policyId));
    const got = expectStatus(await admin.get(`/retentions/${policyId}`), 200).body as {
      id: number;
      rules: { id: number }[];
    };
    assert.equal(got.id, policyId);
    assert.equal(got.rules[0]!.id, 1);
    expectStatus(await admin.post('/retentions', policy), 409);
  });

  it('a dry run deletes nothing and its task log says what would go', async () => {
    const execution = await run(admin, policyId, true);
    assert.deepEqual([execution.status, execution.dry_run, execution.trigger], ['Success', true, 'MANUAL']);
    assert.deepEqual(await tagsIn(admin, 'ret', 'app'), ['dev', 'untagged', 'v1', 'v2', 'v3']);
    const tasks = expectStatus(
      await admin.get(`/retentions/${policyId}/executions/${execution.id}/tasks`),
      200,
    ).body as { id: number; repository: string; total: number; retained: number }[];
    assert.deepEqual(
      tasks.map((t) => [t.repository, t.total, t.retained]),
      [['ret/app', 5, 2]],
      'ret/other is matched by no rule and has no task',
    );
    const log = expectStatus(
      await admin.get(`/retentions/${policyId}/executions/${execution.id}/tasks/${tasks[0]!.id}`),
      200,
    ).text;
    const actions: Record<string, string> = {};
    for (const line of log.split('\n').filter((l) => l.startsWith('| sha256:'))) {
      const cells = line.split('|').map((c) => c.trim());
      actions[cells[2]!] = cells[5]!;
    }
    assert.deepEqual(actions, { v1: 'DEL', v2: 'RETAIN', v3: 'RETAIN', dev: 'DEL', '<none>': 'DEL' });
  });

  it('a real run deletes what no rule retains, in matched repositories only', async () => {
    const execution = await run(admin, policyId, false);
    assert.equal(execution.status, 'Success');
    assert.deepEqual(await tagsIn(admin, 'ret', 'app'), ['v2', 'v3']);
    assert.deepEqual(await tagsIn(admin, 'ret', 'other'), ['v1', 'v2']);
    const list = await admin.get(`/retentions/${policyId}/executions`);
    assert.equal(list.headers.get('x-total-count'), '2');
  });

  it('skips immutable artifacts and reports them IMMUTABLE', async () => {
    expectStatus(
      await admin.post('/projects/ret/immutabletagrules', {
        tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v1' }],
        scope_selectors: repoScope('**'),
      }),
      201,
    );
    expectStatus(
      await admin.put(`/retentions/${policyId}`, {
        algorithm: 'or',
        rules: [
          { template: 'latestPushedK', params: { latestPushedK: 0 }, scope_selectors: repoScope('other') },
        ],
        trigger: { kind: 'Schedule', settings: {} },
        scope: { level: 'project', ref: projectId },
      }),
      200,
    );
    const execution = await run(admin, policyId, false);
    assert.equal(execution.status, 'Success');
    assert.deepEqual(await tagsIn(admin, 'ret', 'other'), ['v1']);
    const tasks = expectStatus(
      await admin.get(`/retentions/${policyId}/executions/${execution.id}/tasks`),
      200,
    ).body as { id: number }[];
    const log = (await admin.get(`/retentions/${policyId}/executions/${execution.id}/tasks/${tasks[0]!.id}`))
      .text;
    assert.match(log, /\| v1 +\|.*\| IMMUTABLE \|/);
    assert.match(log, /\| v2 +\|.*\| DEL +\|/);
  });

  it('the per-repository call creates or replaces that repository’s rules', async () => {
    const other = await createProject(admin, 'seedret');
    await pushImage(berth.base, auth, 'seedret/web', 'a');
    await pushImage(berth.base, auth, 'seedret/web', 'b');
    const rules = [{ template: 'latestPushedK', params: { latestPushedK: 1 }, tag_selectors: [] }];
    const first = expectStatus(
      await admin.post('/projects/seedret/repositories/web/retentions', { rules }),
      201,
    );
    const id = Number(/(\d+)$/.exec(first.headers.get('location') ?? '')?.[1]);
    const again = expectStatus(
      await admin.post('/projects/seedret/repositories/web/retentions', { rules }),
      200,
    );
    assert.equal(again.headers.get('location'), `/api/v2.0/retentions/${id}`);
    const policy = expectStatus(await admin.get(`/retentions/${id}`), 200).body as {
      rules: { scope_selectors: unknown }[];
      scope: { ref: number };
    };
    assert.equal(policy.scope.ref, other);
    assert.deepEqual(
      policy.rules.map((r) => r.scope_selectors),
      [repoScope('web')],
      'replaced, not added',
    );
    await run(admin, id, false);
    assert.deepEqual(await tagsIn(admin, 'seedret', 'web'), ['b']);
  });

  it('needs tag-retention permissions: a developer may read but not run or change', async () => {
    await createUser(admin, 'retdev', 'Developer123');
    expectStatus(
      await admin.post('/projects/ret/members', { role_id: 2, member_user: { username: 'retdev' } }),
      201,
    );
    const developer = Api.as(berth.base, 'retdev', 'Developer123');
    expectStatus(await developer.get(`/retentions/${policyId}`), 200);
    expectStatus(await developer.post(`/retentions/${policyId}/executions`, { dry_run: true }), 403);
    expectStatus(await developer.delete(`/retentions/${policyId}`), 403);
    expectStatus(await new Api(berth.base).get(`/retentions/${policyId}`), 401);
  });

  it('stops an execution and deletes a policy with its executions', async () => {
    const started = expectStatus(
      await admin.post(`/retentions/${policyId}/executions`, { dry_run: true }),
      201,
    );
    const eid = Number(/(\d+)$/.exec(started.headers.get('location') ?? '')?.[1]);
    expectStatus(await admin.patch(`/retentions/${policyId}/executions/${eid}`, { action: 'stop' }), 200);
    const ended = await waitForExecution(admin, policyId, eid);
    assert.ok(['Stopped', 'Success'].includes(ended.status), ended.status);
    expectStatus(await admin.delete(`/retentions/${policyId}`), 200);
    expectStatus(await admin.get(`/retentions/${policyId}`), 404);
    const project = expectStatus(await admin.get('/projects/ret'), 200).body as {
      metadata: Record<string, string>;
    };
    assert.equal(project.metadata.retention_id, undefined);
  });
});
