// Portal sessions: /c/login sets a signed HttpOnly cookie; writes made with it need the double-submit
// CSRF token; Basic callers are exempt; failed logins are limited.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBerth } from '../support/berth.js';
import { adminPassword, Api, createUser, expectHarborError, expectStatus, startApiBerth } from './support.js';

interface Login {
  status: number;
  cookies: Map<string, string>;
  setCookie: string[];
  token: string | null;
}

async function login(base: string, principal: string, password: string): Promise<Login> {
  const res = await fetch(new URL('/c/login', base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ principal, password }).toString(),
  });
  await res.text();
  const setCookie = res.headers.getSetCookie();
  const cookies = new Map<string, string>();
  for (const line of setCookie) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
  }
  return { status: res.status, cookies, setCookie, token: res.headers.get('x-harbor-csrf-token') };
}

describe('sessions and CSRF', () => {
  let berth: TestBerth;
  let session: Login;
  let cookieHeader: string;

  before(async () => {
    berth = await startApiBerth();
    await createUser(Api.as(berth.base, 'admin', adminPassword), 'hank', 'Hank123456');
    session = await login(berth.base, 'hank', 'Hank123456');
    cookieHeader = [...session.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  });
  after(() => berth.dispose());

  it('signs in with principal and password and sets HttpOnly SameSite=Lax cookies', () => {
    assert.equal(session.status, 200);
    const sid = session.setCookie.find((c) => c.startsWith('sid='));
    assert.ok(sid, 'sid cookie');
    assert.match(sid, /HttpOnly/);
    assert.match(sid, /SameSite=Lax/);
    const csrf = session.setCookie.find((c) => c.startsWith('__csrf='));
    assert.ok(csrf, '__csrf cookie');
    assert.doesNotMatch(csrf, /HttpOnly/, 'the page must be able to read the CSRF cookie');
    assert.equal(session.cookies.get('__csrf'), session.token);
  });

  it('refuses a wrong password, unknown users and robots', async () => {
    assert.equal((await login(berth.base, 'hank', 'Wrong12345')).status, 401);
    assert.equal((await login(berth.base, 'nobody', 'Wrong12345')).status, 401);
    const admin = Api.as(berth.base, 'admin', adminPassword);
    const robot = expectStatus(
      await admin.post('/robots', {
        name: 'portal',
        level: 'system',
        duration: -1,
        permissions: [
          { kind: 'project', namespace: '*', access: [{ resource: 'repository', action: 'pull' }] },
        ],
      }),
      201,
    ).body as { name: string; secret: string };
    assert.equal((await login(berth.base, robot.name, robot.secret)).status, 401);
  });

  it('authenticates reads with the cookie alone', async () => {
    const api = new Api(berth.base, undefined, { cookie: cookieHeader });
    const me = expectStatus(await api.get('/users/current'), 200);
    assert.equal((me.body as { username: string }).username, 'hank');
    assert.equal(me.headers.get('x-harbor-csrf-token'), session.token);
  });

  it('refuses cookie-authenticated writes without the CSRF token (403)', async () => {
    const api = new Api(berth.base, undefined, { cookie: cookieHeader });
    expectHarborError(await api.post('/projects', { project_name: 'no-token' }), 403, 'FORBIDDEN');
    expectHarborError(
      await api.post('/projects', { project_name: 'bad-token' }, { 'X-Harbor-CSRF-Token': 'forged' }),
      403,
      'FORBIDDEN',
    );
    const noCookie = new Api(berth.base, undefined, { cookie: `sid=${session.cookies.get('sid')}` });
    expectHarborError(
      await noCookie.post('/projects', { project_name: 'half' }, { 'X-Harbor-CSRF-Token': session.token! }),
      403,
      'FORBIDDEN',
    );
    const admin = Api.as(berth.base, 'admin', adminPassword);
    expectHarborError(await admin.get('/projects/no-token'), 404, 'NOT_FOUND');
  });

  it('accepts cookie-authenticated writes with the token', async () => {
    const api = new Api(berth.base, undefined, { cookie: cookieHeader });
    expectStatus(
      await api.post('/projects', { project_name: 'with-token' }, { 'X-Harbor-CSRF-Token': session.token! }),
      201,
    );
    const project = expectStatus(await api.get('/projects/with-token'), 200).body as { owner_name: string };
    assert.equal(project.owner_name, 'hank');
  });

  it('exempts Basic callers from the CSRF check, even with a cookie', async () => {
    const api = new Api(berth.base, `Basic ${Buffer.from('hank:Hank123456').toString('base64')}`, {
      cookie: cookieHeader,
    });
    expectStatus(await api.post('/projects', { project_name: 'basic-write' }), 201);
  });

  it('ignores a tampered session cookie (the caller is anonymous)', async () => {
    const sid = session.cookies.get('sid')!;
    const tampered = `${sid.slice(0, -2)}${sid.endsWith('A') ? 'B' : 'A'}A`;
    const api = new Api(berth.base, undefined, { cookie: `sid=${tampered}` });
    expectHarborError(await api.get('/users/current'), 401, 'UNAUTHORIZED');
  });

  it('signs out by clearing the cookies', async () => {
    const res = await fetch(new URL('/c/log_out', berth.base), { headers: { cookie: cookieHeader } });
    await res.text();
    assert.equal(res.status, 200);
    const cleared = res.headers.getSetCookie();
    assert.ok(cleared.some((c) => c.startsWith('sid=;') && /Max-Age=0/.test(c)));
  });
});

describe('login limiting', () => {
  let berth: TestBerth;
  before(async () => {
    berth = await startApiBerth();
  });
  after(() => berth.dispose());

  it('answers 429 with Retry-After once an account has failed too often (Basic and /c/login)', async () => {
    const wrong = Api.as(berth.base, 'admin', 'Wrong12345');
    let last = await wrong.get('/projects');
    for (let i = 0; i < 12 && last.status === 401; i++) last = await wrong.get('/projects');
    expectHarborError(last, 429, 'TOO_MANY_REQUEST');
    assert.ok(Number(last.headers.get('retry-after')) > 0);
    assert.equal(
      (await login(berth.base, 'admin', adminPassword)).status,
      429,
      'even the right password waits',
    );
  });
});
