// Projects: creation (and the creator's membership), lookup by name or id, visibility, settings,
// metadata, summary and deletion.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBerth } from '../support/berth.js';
import {
  adminPassword,
  Api,
  basic,
  createUser,
  expectHarborError,
  expectStatus,
  pushImage,
  startApiBerth,
} from './support.js';

interface ProjectJson {
  project_id: number;
  name: string;
  owner_name?: string;
  repo_count: number;
  current_user_role_id: number;
  togglable: boolean;
  metadata: Record<string, string>;
}

describe('projects', () => {
  let berth: TestBerth;
  let admin: Api;
  let alice: Api;
  let bob: Api;
  const anonymous = () => new Api(berth.base);

  before(async () => {
    berth = await startApiBerth();
    admin = Api.as(berth.base, 'admin', adminPassword);
    await createUser(admin, 'alice', 'Alice12345');
    await createUser(admin, 'bob', 'Bobby12345');
    alice = Api.as(berth.base, 'alice', 'Alice12345');
    bob = Api.as(berth.base, 'bob', 'Bobby12345');
  });
  after(() => berth.dispose());

  it('lets a user create a project and makes the creator its Project Admin', async () => {
    const res = expectStatus(
      await alice.post('/projects', { project_name: 'alpha', metadata: { public: 'false' } }),
      201,
    );
    const id = Number(/\/api\/v2\.0\/projects\/(\d+)$/.exec(res.headers.get('location') ?? '')?.[1]);
    assert.ok(id > 0);
    const project = expectStatus(await alice.get(`/projects/${id}`), 200).body as ProjectJson;
    assert.equal(project.name, 'alpha');
    assert.equal(project.owner_name, 'alice');
    assert.equal(project.current_user_role_id, 1);
    assert.equal(project.togglable, true);
    assert.deepEqual(project.metadata, { public: 'false' });
  });

  it('answers Location by name with X-Resource-Name-In-Location', async () => {
    const res = expectStatus(
      await alice.post('/projects', { project_name: 'named' }, { 'X-Resource-Name-In-Location': 'true' }),
      201,
    );
    assert.equal(res.headers.get('location'), '/api/v2.0/projects/named');
  });

  it('refuses a taken name (409), a bad name (400) and anonymous callers (401)', async () => {
    expectHarborError(await bob.post('/projects', { project_name: 'alpha' }), 409, 'CONFLICT');
    for (const name of ['Upper', 'a..b', '-lead', 'x'.repeat(256), '']) {
      expectHarborError(await bob.post('/projects', { project_name: name }), 400, 'BAD_REQUEST');
    }
    expectHarborError(await anonymous().post('/projects', { project_name: 'anon' }), 401, 'UNAUTHORIZED');
  });

  it('accepts the deprecated top-level public flag', async () => {
    await alice.post('/projects', { project_name: 'legacy', public: true });
    const project = expectStatus(await anonymous().get('/projects/legacy'), 200).body as ProjectJson;
    assert.equal(project.metadata.public, 'true');
  });

  it('treats an all-digit value as an id unless X-Is-Resource-Name says it is a name', async () => {
    expectStatus(await admin.post('/projects', { project_name: '123' }), 201);
    expectHarborError(await admin.get('/projects/123'), 404, 'NOT_FOUND');
    const byName = expectStatus(await admin.get('/projects/123', { 'X-Is-Resource-Name': 'true' }), 200);
    assert.equal((byName.body as ProjectJson).name, '123');
  });

  it('checks names with HEAD', async () => {
    expectStatus(await alice.call('HEAD', '/projects?project_name=alpha'), 200);
    const missing = await alice.call('HEAD', '/projects?project_name=nothing-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, '');
  });

  it('hides private projects from non-members: 403 for users, 401 for anonymous', async () => {
    expectHarborError(await bob.get('/projects/alpha'), 403, 'FORBIDDEN');
    expectHarborError(await anonymous().get('/projects/alpha'), 401, 'UNAUTHORIZED');
    expectHarborError(await bob.get('/projects/does-not-exist'), 404, 'NOT_FOUND');
  });

  it('lists what each caller may see', async () => {
    const names = async (api: Api, query = '') =>
      (expectStatus(await api.get(`/projects${query}`), 200).body as ProjectJson[]).map((p) => p.name);
    assert.deepEqual(await names(bob), ['legacy', 'library']);
    assert.deepEqual(await names(anonymous()), ['legacy', 'library']);
    assert.deepEqual(await names(alice), ['alpha', 'legacy', 'library', 'named']);
    assert.deepEqual(await names(alice, '?public=false'), ['alpha', 'named']);
    assert.deepEqual(await names(anonymous(), '?public=false'), []);
    assert.ok((await names(admin)).includes('123'));
    assert.deepEqual(await names(alice, '?name=am'), ['named']);
    assert.deepEqual(await names(alice, '?q=name%3D~lph'), ['alpha']);
    assert.deepEqual(await names(alice, '?q=name%3Dalpha'), ['alpha']);
  });

  it('updates the public setting and metadata; only system admins change the storage limit', async () => {
    expectStatus(
      await alice.put('/projects/alpha', { metadata: { public: 'true', auto_scan: 'true' } }),
      200,
    );
    const project = expectStatus(await bob.get('/projects/alpha'), 200).body as ProjectJson;
    assert.deepEqual(project.metadata, { public: 'true', auto_scan: 'true' });
    assert.equal(project.togglable, false);
    expectHarborError(await bob.put('/projects/alpha', { metadata: { public: 'false' } }), 403, 'FORBIDDEN');
    expectHarborError(await alice.put('/projects/alpha', { storage_limit: 1024 }), 403, 'FORBIDDEN');
    expectStatus(await admin.put('/projects/alpha', { storage_limit: 1024 }), 200);
    const summary = expectStatus(await alice.get('/projects/alpha/summary'), 200).body as { quota: unknown };
    assert.deepEqual(summary.quota, { hard: { storage: 1024 }, used: { storage: 0 } });
    expectStatus(await alice.put('/projects/alpha', { metadata: { public: 'false' } }), 200);
    expectHarborError(await bob.get('/projects/alpha'), 403, 'FORBIDDEN');
  });

  it('edits metadata one key at a time', async () => {
    const base = '/projects/alpha/metadatas';
    assert.deepEqual(expectStatus(await alice.get(base), 200).body, { public: 'false', auto_scan: 'true' });
    expectStatus(await alice.post(base, { severity: 'HIGH' }), 200);
    expectHarborError(await alice.post(base, { severity: 'low' }), 409, 'CONFLICT');
    expectHarborError(await alice.post(base, { unknown_key: 'x' }), 400, 'BAD_REQUEST');
    expectHarborError(await alice.post(base, { prevent_vul: 'maybe' }), 400, 'BAD_REQUEST');
    assert.deepEqual(expectStatus(await alice.get(`${base}/severity`), 200).body, { severity: 'high' });
    expectStatus(await alice.put(`${base}/severity`, { severity: 'low' }), 200);
    expectHarborError(await alice.put(`${base}/severity`, { auto_scan: 'false' }), 400, 'BAD_REQUEST');
    expectStatus(await alice.delete(`${base}/severity`), 200);
    expectHarborError(await alice.get(`${base}/severity`), 404, 'NOT_FOUND');
    expectStatus(await alice.put(`${base}/public`, { public: '1' }), 200);
    assert.equal(
      (expectStatus(await bob.get('/projects/alpha'), 200).body as ProjectJson).metadata.public,
      'true',
    );
  });

  it('summarises members per role', async () => {
    expectStatus(
      await alice.post('/projects/alpha/members', { role_id: 3, member_user: { username: 'bob' } }),
      201,
    );
    const summary = expectStatus(await alice.get('/projects/alpha/summary'), 200).body as Record<
      string,
      number
    >;
    assert.equal(summary.project_admin_count, 1);
    assert.equal(summary.guest_count, 1);
    assert.equal(summary.repo_count, 0);
  });

  it('refuses to delete a project that holds repositories (412), then deletes it once empty', async () => {
    await pushImage(berth.base, basic('alice', 'Alice12345'), 'alpha/app', 'v1');
    assert.equal((expectStatus(await alice.get('/projects/alpha'), 200).body as ProjectJson).repo_count, 1);
    expectHarborError(await alice.delete('/projects/alpha'), 412, 'PRECONDITION');
    expectHarborError(await bob.delete('/projects/alpha'), 403, 'FORBIDDEN');
    expectStatus(await alice.delete('/projects/alpha/repositories/app'), 200);
    expectStatus(await alice.delete('/projects/alpha'), 200);
    expectHarborError(await alice.get('/projects/alpha'), 404, 'NOT_FOUND');
  });
});
