// Project members: add by username or id with a role, change the role, remove, and who may do it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBerth } from '../support/berth.js';
import {
  adminPassword,
  Api,
  createProject,
  createUser,
  expectHarborError,
  expectStatus,
  startApiBerth,
} from './support.js';

interface MemberJson {
  id: number;
  project_id: number;
  entity_name: string;
  entity_id: number;
  entity_type: string;
  role_id: number;
  role_name: string;
}

describe('project members', () => {
  let berth: TestBerth;
  let admin: Api;
  let owner: Api;
  let carolId: number;
  let projectId: number;

  before(async () => {
    berth = await startApiBerth();
    admin = Api.as(berth.base, 'admin', adminPassword);
    await createUser(admin, 'owner', 'Owner12345');
    await createUser(admin, 'dave', 'Dave123456');
    carolId = await createUser(admin, 'carol', 'Carol12345');
    owner = Api.as(berth.base, 'owner', 'Owner12345');
    projectId = await createProject(owner, 'crew');
  });
  after(() => berth.dispose());

  const members = async (api: Api) =>
    expectStatus(await api.get('/projects/crew/members'), 200).body as MemberJson[];

  it('starts with the creator as Project Admin', async () => {
    const list = await members(owner);
    assert.deepEqual(
      list.map((m) => [m.entity_name, m.role_id, m.role_name, m.entity_type, m.project_id]),
      [['owner', 1, 'projectAdmin', 'u', projectId]],
    );
  });

  it('adds members by username and by user_id', async () => {
    const byName = expectStatus(
      await owner.post('/projects/crew/members', { role_id: 2, member_user: { username: 'dave' } }),
      201,
    );
    assert.match(byName.headers.get('location') ?? '', /^\/api\/v2\.0\/projects\/crew\/members\/\d+$/);
    expectStatus(
      await owner.post(`/projects/${projectId}/members`, { role_id: 4, member_user: { user_id: carolId } }),
      201,
    );
    const list = await members(owner);
    assert.deepEqual(
      list.map((m) => [m.entity_name, m.role_name]),
      [
        ['carol', 'maintainer'],
        ['dave', 'developer'],
        ['owner', 'projectAdmin'],
      ],
    );
    assert.equal(list.find((m) => m.entity_name === 'carol')?.entity_id, carolId);
  });

  it('refuses duplicates, unknown roles and unknown users', async () => {
    expectHarborError(
      await owner.post('/projects/crew/members', { role_id: 3, member_user: { username: 'dave' } }),
      409,
      'CONFLICT',
    );
    expectHarborError(
      await owner.post('/projects/crew/members', { role_id: 9, member_user: { username: 'admin' } }),
      400,
      'BAD_REQUEST',
    );
    expectHarborError(
      await owner.post('/projects/crew/members', { member_user: { username: 'admin' } }),
      400,
      'BAD_REQUEST',
    );
    expectHarborError(
      await owner.post('/projects/crew/members', { role_id: 2, member_user: { username: 'nobody' } }),
      404,
      'NOT_FOUND',
    );
    expectHarborError(
      await owner.post('/projects/crew/members', { role_id: 2, member_user: { user_id: 9999 } }),
      400,
      'BAD_REQUEST',
    );
    expectHarborError(await owner.post('/projects/crew/members', { role_id: 2 }), 400, 'BAD_REQUEST');
  });

  it('pages and filters the member list', async () => {
    const page = expectStatus(await owner.get('/projects/crew/members?page=2&page_size=2'), 200);
    assert.equal(page.headers.get('x-total-count'), '3');
    assert.deepEqual(
      (page.body as MemberJson[]).map((m) => m.entity_name),
      ['owner'],
    );
    const filtered = expectStatus(await owner.get('/projects/crew/members?entityname=ca'), 200)
      .body as MemberJson[];
    assert.deepEqual(
      filtered.map((m) => m.entity_name),
      ['carol'],
    );
  });

  it('reads, re-roles and removes a member', async () => {
    const dave = (await members(owner)).find((m) => m.entity_name === 'dave')!;
    const one = expectStatus(await owner.get(`/projects/crew/members/${dave.id}`), 200).body as MemberJson;
    assert.equal(one.role_id, 2);
    expectStatus(await owner.put(`/projects/crew/members/${dave.id}`, { role_id: 3 }), 200);
    assert.equal(
      (expectStatus(await owner.get(`/projects/crew/members/${dave.id}`), 200).body as MemberJson).role_name,
      'guest',
    );
    expectHarborError(
      await owner.put(`/projects/crew/members/${dave.id}`, { role_id: 0 }),
      400,
      'BAD_REQUEST',
    );
    expectHarborError(await owner.put('/projects/crew/members/99999', { role_id: 2 }), 404, 'NOT_FOUND');
    expectStatus(await owner.delete(`/projects/crew/members/${dave.id}`), 200);
    expectHarborError(await owner.get(`/projects/crew/members/${dave.id}`), 404, 'NOT_FOUND');
  });

  it('lets only Project Admins manage members; guests may read them', async () => {
    const carol = Api.as(berth.base, 'carol', 'Carol12345');
    const dave = Api.as(berth.base, 'dave', 'Dave123456');
    expectHarborError(
      await carol.post('/projects/crew/members', { role_id: 2, member_user: { username: 'dave' } }),
      403,
      'FORBIDDEN',
    );
    expectHarborError(await dave.get('/projects/crew/members'), 403, 'FORBIDDEN');
    expectStatus(
      await owner.post('/projects/crew/members', { role_id: 3, member_user: { username: 'dave' } }),
      201,
    );
    expectStatus(await dave.get('/projects/crew/members'), 200);
    expectHarborError(await new Api(berth.base).get('/projects/crew/members'), 401, 'UNAUTHORIZED');
  });

  it('gives a new member the access of its role at once', async () => {
    const carol = Api.as(berth.base, 'carol', 'Carol12345');
    const carolMember = (await members(owner)).find((m) => m.entity_name === 'carol')!;
    expectStatus(await carol.get('/projects/crew/repositories'), 200);
    expectStatus(await owner.delete(`/projects/crew/members/${carolMember.id}`), 200);
    expectHarborError(await carol.get('/projects/crew/repositories'), 403, 'FORBIDDEN');
  });
});
