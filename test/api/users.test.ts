// Local users: created by system admins, profiles and passwords, the admin flag, deletion.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBerth } from '../support/berth.js';
import { adminPassword, Api, createUser, expectHarborError, expectStatus, startApiBerth } from './support.js';

interface UserJson {
  user_id: number;
  username: string;
  email: string;
  realname: string;
  comment: string;
  sysadmin_flag: boolean;
}

describe('users', () => {
  let berth: TestBerth;
  let admin: Api;
  let erinId: number;

  before(async () => {
    berth = await startApiBerth();
    admin = Api.as(berth.base, 'admin', adminPassword);
    erinId = await createUser(admin, 'erin', 'Erin123456');
  });
  after(() => berth.dispose());

  it('creates users (system admins only) with Harbor rules for passwords and profiles', async () => {
    const erin = Api.as(berth.base, 'erin', 'Erin123456');
    const body = { username: 'frank', email: 'frank@example.com', realname: 'Frank', password: 'Frank12345' };
    expectHarborError(await erin.post('/users', body), 403, 'FORBIDDEN');
    expectHarborError(await new Api(berth.base).post('/users', body), 401, 'UNAUTHORIZED');
    expectHarborError(await admin.post('/users', { ...body, password: 'weakpassword' }), 400, 'BAD_REQUEST');
    expectHarborError(await admin.post('/users', { ...body, email: 'not-an-email' }), 400, 'BAD_REQUEST');
    expectHarborError(await admin.post('/users', { ...body, username: 'bad$name' }), 400, 'BAD_REQUEST');
    const res = expectStatus(await admin.post('/users', body), 201);
    assert.match(res.headers.get('location') ?? '', /^\/api\/v2\.0\/users\/\d+$/);
    expectHarborError(await admin.post('/users', body), 409, 'CONFLICT');
  });

  it('lists and searches users', async () => {
    const page = expectStatus(await admin.get('/users?page_size=2'), 200);
    assert.equal(page.headers.get('x-total-count'), '3');
    assert.deepEqual(
      (page.body as UserJson[]).map((u) => u.username),
      ['admin', 'erin'],
    );
    const filtered = expectStatus(await admin.get('/users?q=username%3D~ran'), 200).body as UserJson[];
    assert.deepEqual(
      filtered.map((u) => u.username),
      ['frank'],
    );
    expectHarborError(await Api.as(berth.base, 'erin', 'Erin123456').get('/users'), 403, 'FORBIDDEN');
    const search = expectStatus(
      await Api.as(berth.base, 'erin', 'Erin123456').get('/users/search?username=fra'),
      200,
    );
    assert.deepEqual(search.body, [{ user_id: (filtered[0] as UserJson).user_id, username: 'frank' }]);
  });

  it('answers /users/current for the caller, 401 for anonymous', async () => {
    const me = expectStatus(await Api.as(berth.base, 'erin', 'Erin123456').get('/users/current'), 200)
      .body as UserJson;
    assert.deepEqual([me.user_id, me.username, me.sysadmin_flag], [erinId, 'erin', false]);
    expectHarborError(await new Api(berth.base).get('/users/current'), 401, 'UNAUTHORIZED');
  });

  it("lets users read and edit their own profile, not others'", async () => {
    const erin = Api.as(berth.base, 'erin', 'Erin123456');
    expectStatus(await erin.get(`/users/${erinId}`), 200);
    expectHarborError(await erin.get('/users/1'), 403, 'FORBIDDEN');
    expectStatus(await erin.put(`/users/${erinId}`, { realname: 'Erin E.', comment: 'hello' }), 200);
    const me = expectStatus(await erin.get(`/users/${erinId}`), 200).body as UserJson;
    assert.deepEqual([me.realname, me.comment, me.email], ['Erin E.', 'hello', 'erin@example.com']);
    expectHarborError(await erin.put(`/users/${erinId}`, { email: 'broken' }), 400, 'BAD_REQUEST');
    expectHarborError(await erin.put('/users/1', { realname: 'Mallory' }), 403, 'FORBIDDEN');
    expectHarborError(await admin.get('/users/99999'), 404, 'NOT_FOUND');
  });

  it('changes passwords: the user gives the old one, an admin need not', async () => {
    const erin = Api.as(berth.base, 'erin', 'Erin123456');
    expectHarborError(
      await erin.put(`/users/${erinId}/password`, { old_password: 'Wrong12345', new_password: 'Erin654321' }),
      403,
      'FORBIDDEN',
    );
    expectHarborError(
      await erin.put(`/users/${erinId}/password`, { new_password: 'Erin654321' }),
      403,
      'FORBIDDEN',
    );
    expectHarborError(
      await erin.put(`/users/${erinId}/password`, { old_password: 'Erin123456', new_password: 'short' }),
      400,
      'BAD_REQUEST',
    );
    expectHarborError(
      await erin.put(`/users/${erinId}/password`, { old_password: 'Erin123456', new_password: 'Erin123456' }),
      400,
      'BAD_REQUEST',
    );
    expectStatus(
      await erin.put(`/users/${erinId}/password`, { old_password: 'Erin123456', new_password: 'Erin654321' }),
      200,
    );
    expectHarborError(await erin.get('/users/current'), 401, 'UNAUTHORIZED');
    expectStatus(await Api.as(berth.base, 'erin', 'Erin654321').get('/users/current'), 200);
    expectStatus(await admin.put(`/users/${erinId}/password`, { new_password: 'Reset12345' }), 200);
    expectStatus(await Api.as(berth.base, 'erin', 'Reset12345').get('/users/current'), 200);
  });

  it('grants and revokes system admin', async () => {
    const erin = Api.as(berth.base, 'erin', 'Reset12345');
    expectHarborError(await erin.put(`/users/${erinId}/sysadmin`, { sysadmin_flag: true }), 403, 'FORBIDDEN');
    expectStatus(await admin.put(`/users/${erinId}/sysadmin`, { sysadmin_flag: true }), 200);
    expectStatus(await erin.get('/users'), 200);
    expectStatus(await admin.put(`/users/${erinId}/sysadmin`, { sysadmin_flag: false }), 200);
    expectHarborError(await erin.get('/users'), 403, 'FORBIDDEN');
  });

  it('deletes users, but not oneself nor user 1', async () => {
    const gina = await createUser(admin, 'gina', 'Gina123456');
    expectHarborError(await admin.delete('/users/1'), 403, 'FORBIDDEN');
    expectHarborError(
      await Api.as(berth.base, 'erin', 'Reset12345').delete(`/users/${gina}`),
      403,
      'FORBIDDEN',
    );
    expectStatus(await admin.delete(`/users/${gina}`), 200);
    expectHarborError(await admin.get(`/users/${gina}`), 404, 'NOT_FOUND');
    expectHarborError(
      await Api.as(berth.base, 'gina', 'Gina123456').get('/users/current'),
      401,
      'UNAUTHORIZED',
    );
  });
});
