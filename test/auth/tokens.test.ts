import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { signingKeySetting, TokenService } from '../../src/auth/token-service.js';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import { roles, type Project } from '../../src/core/iam/model.js';
import {
  addMember,
  addProject,
  addRobot,
  addUser,
  adminPassword,
  claimsOf,
  errorCode,
  getToken,
  postToken,
  startAuthBerth,
  startUpload,
  TestClock,
  tokenFor,
  v2,
  type TokenResponse,
} from './fixtures.js';

const dev: [string, string] = ['dev', 'Dev3loper!'];
const guest: [string, string] = ['guest', 'Gu3stPassword'];

describe('token endpoint and bearer tokens', () => {
  let berth: TestBerth;
  let team: Project;
  const clock = new TestClock();

  before(async () => {
    berth = await startAuthBerth({}, { clock });
    team = await addProject(berth, 'team');
    await addMember(berth, team, await addUser(berth, ...dev), roles.developer);
    await addMember(berth, team, await addUser(berth, ...guest), roles.guest);
  });
  after(() => berth.dispose());

  /** A token service on the same key but another clock or audience: forged-but-signed tokens. */
  async function tokensAt(offsetMs: number): Promise<TokenService> {
    return TokenService.open(berth.metadata.settings, {
      clock: { now: () => new Date(clock.now().getTime() + offsetMs) },
    });
  }

  async function devSubject() {
    const user = await berth.metadata.users.getByName('dev');
    return { kind: 'user' as const, name: 'dev', id: user!.id };
  }

  const pullPush = [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }];

  it('answers the challenge and grants what was asked and is allowed', async () => {
    const challenge = await v2(berth, '');
    assert.equal(challenge.status, 401);
    assert.equal(
      challenge.headers.get('www-authenticate'),
      `Bearer realm="http://127.0.0.1:${berth.port}/service/token",service="berth"`,
    );
    const answer = await getToken(berth, ['repository:team/app:pull,push'], dev, {
      account: 'dev',
      client_id: 'test',
    });
    assert.equal(answer.status, 200);
    const body = answer.body as TokenResponse;
    assert.equal(body.token, body.access_token);
    assert.ok(body.expires_in >= 60);
    assert.match(body.issued_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(body.refresh_token, undefined);
    const claims = claimsOf(body.token);
    assert.equal(claims.iss, 'berth');
    assert.equal(claims.sub, 'dev');
    assert.equal(claims.sub_type, 'user');
    assert.equal(claims.aud, 'berth');
    assert.deepEqual(claims.access, pullPush);
    const header = JSON.parse(Buffer.from(body.token.split('.')[0]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    assert.equal(header.alg, 'ES256');
    assert.equal(typeof header.kid, 'string');
    assert.equal((await startUpload(berth, 'team/app', `Bearer ${body.token}`)).status, 202);
    assert.equal((await v2(berth, '', `Bearer ${body.token}`)).status, 200);
  });

  it('refuses an unauthenticated request for a token without a scope (a bad docker login fails)', async () => {
    const answer = await getToken(berth, []);
    assert.equal(answer.status, 401);
    assert.deepEqual(answer.body, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
    const wrong = await getToken(berth, [], [dev[0], 'not-the-password']);
    assert.equal(wrong.status, 401);
    assert.equal((wrong.body as { errors: { code: string }[] }).errors[0]!.code, 'UNAUTHORIZED');
    // With credentials and no scope (docker login, skopeo login): a token with no access.
    const login = await getToken(berth, [], dev);
    assert.equal(login.status, 200);
    assert.deepEqual(claimsOf((login.body as TokenResponse).token).access, []);
  });

  it('gives anonymous callers only pulls from public projects', async () => {
    const answer = await getToken(berth, ['repository:library/web:pull,push', 'repository:team/app:pull']);
    assert.equal(answer.status, 200);
    const claims = claimsOf((answer.body as TokenResponse).token);
    assert.equal(claims.sub, '');
    assert.equal(claims.sub_type, 'anonymous');
    assert.deepEqual(claims.access, [{ type: 'repository', name: 'library/web', actions: ['pull'] }]);
  });

  it('grants pull only where only pull is allowed, and the push is refused', async () => {
    const token = await tokenFor(berth, ['repository:team/app:pull,push'], guest);
    assert.deepEqual(claimsOf(token).access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    const push = await startUpload(berth, 'team/app', `Bearer ${token}`);
    assert.equal(push.status, 403);
    assert.equal((await errorCode(push)).code, 'DENIED');
    assert.equal((await v2(berth, 'team/app/tags/list', `Bearer ${token}`)).status, 404); // pull allowed: no tags yet
  });

  it('does not let a token for repository A be used on repository B', async () => {
    const token = await tokenFor(berth, ['repository:team/a:pull,push'], dev);
    assert.equal((await startUpload(berth, 'team/a', `Bearer ${token}`)).status, 202);
    const other = await startUpload(berth, 'team/b', `Bearer ${token}`);
    assert.equal(other.status, 401);
    assert.equal(
      other.headers.get('www-authenticate'),
      `Bearer realm="http://127.0.0.1:${berth.port}/service/token",service="berth",scope="repository:team/b:pull,push",error="insufficient_scope"`,
    );
    assert.equal((await v2(berth, 'team/b/tags/list', `Bearer ${token}`)).status, 401);
  });

  it('refuses expired, not yet valid, wrong-audience and wrongly signed tokens', async () => {
    const subject = await devSubject();
    const valid = await (await tokensAt(0)).issueAccess(subject, 'berth', pullPush);
    assert.equal(
      (await startUpload(berth, 'team/app', `Bearer ${valid.token}`)).status,
      202,
      'the control token works',
    );

    const expired = await (await tokensAt(-3600_000)).issueAccess(subject, 'berth', pullPush);
    const future = await (await tokensAt(+3600_000)).issueAccess(subject, 'berth', pullPush);
    const audience = await (await tokensAt(0)).issueAccess(subject, 'other-service', pullPush);

    const [header, payload] = valid.token.split('.') as [string, string, string];
    const { privateKey } = await generateKeyPair('ES256');
    const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }).kid;
    const claims = claimsOf(valid.token);
    const foreign = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
      .sign(privateKey);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid })).toString('base64url')}.${payload}.`;
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
      .sign(new TextEncoder().encode('a shared secret of thirty-two bytes!'));
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${valid.token.split('.')[2]}`;

    for (const [what, token] of Object.entries({
      expired,
      future,
      audience,
      foreign,
      none,
      hs256,
      tampered,
      garbage: 'abc.def.ghi',
    })) {
      const value = typeof token === 'string' ? token : token.token;
      const response = await startUpload(berth, 'team/app', `Bearer ${value}`);
      assert.equal(response.status, 401, what);
      assert.match(
        response.headers.get('www-authenticate') ?? '',
        /^Bearer realm=".*",service="berth",error="invalid_token"$/,
        what,
      );
      assert.equal((await v2(berth, '', `Bearer ${value}`)).status, 401, what);
    }
  });

  it('tolerates small clock skew', async () => {
    const subject = await devSubject();
    const skewed = await (await tokensAt(+10_000)).issueAccess(subject, 'berth', pullPush);
    assert.equal((await startUpload(berth, 'team/app', `Bearer ${skewed.token}`)).status, 202);
  });

  it('ignores malformed and oversized scopes, and splits names with host:port on the outer colons', async () => {
    const malformed = [
      'repository',
      'repository:team/app',
      ':team/app:pull',
      'repository::pull',
      'repository:team/app:',
      'repository:team/app:pull;rm',
      'Repo$itory:team/app:pull',
      `repository:team/${'a'.repeat(2000)}:pull`,
      'repository:team/app\u0000:pull',
      'repository:localhost:5000/team/app:pull',
    ];
    const answer = await getToken(berth, malformed, dev);
    assert.equal(answer.status, 200);
    assert.deepEqual(claimsOf((answer.body as TokenResponse).token).access, []);
    // Several scopes in one value; only the well-formed ones count.
    const mixed = await getToken(
      berth,
      ['repository:team/app:pull garbage registry:catalog:*  repository:team/x:push'],
      dev,
    );
    assert.deepEqual(claimsOf((mixed.body as TokenResponse).token).access, [
      { type: 'repository', name: 'team/app', actions: ['pull'] },
      { type: 'repository', name: 'team/x', actions: ['push'] },
    ]);
    // A huge value is dropped whole, and no more than 32 scopes are considered.
    const huge = await getToken(berth, [`repository:team/app:pull ${'x'.repeat(9_000)}`], dev);
    assert.equal(huge.status, 200);
    assert.deepEqual(claimsOf((huge.body as TokenResponse).token).access, []);
    const many = Array.from({ length: 40 }, (_, i) => `repository:team/r${i}:pull`);
    const capped = await getToken(berth, many, dev);
    assert.equal((claimsOf((capped.body as TokenResponse).token).access as unknown[]).length, 32);
    // Without credentials, scopes that are all malformed are no scope at all.
    assert.equal((await getToken(berth, ['nonsense'])).status, 401);
  });

  it('gives the catalog scope to system administrators only', async () => {
    const adminToken = await tokenFor(berth, ['registry:catalog:*'], ['admin', adminPassword]);
    assert.deepEqual(claimsOf(adminToken).access, [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    assert.equal((await v2(berth, '_catalog', `Bearer ${adminToken}`)).status, 200);
    const devToken = await tokenFor(berth, ['registry:catalog:*'], dev);
    assert.deepEqual(claimsOf(devToken).access, []);
    assert.equal((await v2(berth, '_catalog', `Bearer ${devToken}`)).status, 403);
    const anonymousCatalog = await v2(berth, '_catalog');
    assert.equal(anonymousCatalog.status, 401);
    assert.match(anonymousCatalog.headers.get('www-authenticate') ?? '', /scope="registry:catalog:\*"/);
  });

  it('POST grant_type=password issues a token, and a refresh token for offline access', async () => {
    const plain = await postToken(berth, {
      grant_type: 'password',
      username: dev[0],
      password: dev[1],
      service: 'berth',
      client_id: 'oras-go',
      scope: 'repository:team/app:pull,push repository:team/other:delete',
    });
    assert.equal(plain.status, 200);
    const body = plain.body as TokenResponse;
    assert.equal(body.access_token, body.token);
    assert.equal(body.scope, 'repository:team/app:pull,push');
    assert.equal(body.refresh_token, undefined);
    assert.equal((await startUpload(berth, 'team/app', `Bearer ${body.access_token}`)).status, 202);

    const wrong = await postToken(berth, {
      grant_type: 'password',
      username: dev[0],
      password: 'nope',
      service: 'berth',
    });
    assert.equal(wrong.status, 401);
    assert.equal((await postToken(berth, { grant_type: 'client_credentials' })).status, 400);
    assert.equal((await postToken(berth, { grant_type: 'password', username: 'dev' })).status, 400);
    const notForm = await fetch(`${berth.base}/service/token`, {
      method: 'POST',
      body: '{}',
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(notForm.status, 400);
    const tooLarge = await fetch(`${berth.base}/service/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=password&scope=${'a'.repeat(100_000)}`,
    });
    assert.equal(tooLarge.status, 413);
  });

  it('exchanges a refresh token while its subject and credential stay the same', async () => {
    const user = await addUser(berth, 'refresher', 'R3freshMe!');
    await addMember(berth, team, user, roles.developer);
    const offline = await postToken(berth, {
      grant_type: 'password',
      username: 'refresher',
      password: 'R3freshMe!',
      access_type: 'offline',
      service: 'berth',
    });
    const refreshToken = (offline.body as TokenResponse).refresh_token;
    assert.ok(refreshToken);
    // GET with offline_token=true gives one as well.
    assert.ok((await getToken(berth, [], ['refresher', 'R3freshMe!'], { offline_token: 'true' })).body);

    const refreshed = await postToken(berth, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      service: 'berth',
      scope: 'repository:team/app:pull,push',
    });
    assert.equal(refreshed.status, 200);
    const access = (refreshed.body as TokenResponse).access_token;
    assert.equal(claimsOf(access).sub, 'refresher');
    assert.equal((await startUpload(berth, 'team/app', `Bearer ${access}`)).status, 202);

    // A refresh token is no access token, and an access token no refresh token.
    assert.equal((await v2(berth, '', `Bearer ${refreshToken}`)).status, 401);
    assert.equal(
      (await postToken(berth, { grant_type: 'refresh_token', refresh_token: access })).status,
      401,
    );
    assert.equal(
      (await postToken(berth, { grant_type: 'refresh_token', refresh_token: `${refreshToken}x` })).status,
      401,
    );

    // A new password ends the refresh token.
    await berth.metadata.users.update(
      user.id,
      { passwordHash: await berth.auth.hasher.hash('N3wPassword') },
      new Date(),
    );
    const stale = await postToken(berth, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      service: 'berth',
    });
    assert.equal(stale.status, 401);
  });

  it('re-checks the subject and the policy on every request (within the cache lifetime)', async () => {
    const robot = await addRobot(berth, team, 'ci', 'Rob0tSecret', ['pull', 'push']);
    const robotToken = await tokenFor(berth, ['repository:team/app:pull,push'], [robot.name, 'Rob0tSecret']);
    assert.equal(claimsOf(robotToken).sub_type, 'robot');
    assert.equal((await startUpload(berth, 'team/app', `Bearer ${robotToken}`)).status, 202);

    const member = await addUser(berth, 'leaver', 'L3averPass');
    await addMember(berth, team, member, roles.developer);
    const memberToken = await tokenFor(berth, ['repository:team/app:pull,push'], ['leaver', 'L3averPass']);
    assert.equal((await startUpload(berth, 'team/app', `Bearer ${memberToken}`)).status, 202);

    await berth.metadata.robots.update(robot.id, { disabled: true }, new Date());
    const members = await berth.metadata.members.list(team.id);
    await berth.metadata.members.remove(team.id, members.find((m) => m.userId === member.id)!.id);
    clock.advance(6_000); // past the 5 s caches, as on a node that did not make the change

    assert.equal((await startUpload(berth, 'team/app', `Bearer ${robotToken}`)).status, 401);
    const removed = await startUpload(berth, 'team/app', `Bearer ${memberToken}`);
    assert.equal(removed.status, 403);
    assert.equal((await errorCode(removed)).code, 'DENIED');
  });
});

describe('signing key', () => {
  it("is created once: nodes opening it together agree on the first writer's key", async () => {
    const berth = await startTestBerth(); // auth off: no key yet
    try {
      assert.equal(await berth.metadata.settings.get(signingKeySetting), undefined);
      const clock = { now: () => new Date() };
      const services = await Promise.all(
        [1, 2, 3, 4].map(() => TokenService.open(berth.metadata.settings, { clock })),
      );
      assert.equal(new Set(services.map((s) => s.keyId)).size, 1);
      const subject = { kind: 'user' as const, name: 'someone', id: 7 };
      const issued = await services[0]!.issueAccess(subject, 'berth', []);
      assert.deepEqual((await services[3]!.verifyAccess(issued.token, 'berth'))?.subject, subject);
      const stored = JSON.parse((await berth.metadata.settings.get(signingKeySetting))!) as Record<
        string,
        unknown
      >;
      assert.equal(stored.kid, services[0]!.keyId);
      assert.equal(stored.crv, 'P-256');
    } finally {
      await berth.dispose();
    }
  });
});

describe('login rate limiting', () => {
  let berth: TestBerth;
  before(async () => {
    berth = await startAuthBerth();
    await addUser(berth, 'victim', 'V1ctimPass');
  });
  after(() => berth.dispose());

  it('answers 429 with Retry-After after repeated failures, alike for known and unknown names', async () => {
    for (let i = 0; i < 10; i++) {
      assert.equal((await getToken(berth, [], ['victim', `wrong-${i}`])).status, 401);
    }
    const limited = await getToken(berth, [], ['victim', 'V1ctimPass']); // even the right password waits
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    const unknown = await getToken(berth, [], ['nobody-by-this-name', 'whatever']);
    assert.equal(unknown.status, 429, 'the address is limited too');
    assert.deepEqual(unknown.body, limited.body);
    assert.equal(unknown.headers.get('retry-after'), limited.headers.get('retry-after'));
    const post = await postToken(berth, {
      grant_type: 'password',
      username: 'victim',
      password: 'V1ctimPass',
    });
    assert.equal(post.status, 429);
    const basic = await v2(berth, '', `Basic ${Buffer.from('victim:V1ctimPass').toString('base64')}`);
    assert.equal(basic.status, 429);
    assert.ok(basic.headers.get('retry-after'));
  });

  it('limits unknown names exactly like known ones', async () => {
    const fresh = await startAuthBerth();
    try {
      const answers = [];
      for (let i = 0; i < 11; i++) answers.push(await getToken(fresh, [], ['ghost', `guess-${i}`]));
      assert.deepEqual(
        answers.slice(0, 10).map((a) => a.status),
        Array(10).fill(401),
      );
      assert.equal(answers[10]!.status, 429);
      assert.ok(answers[10]!.headers.get('retry-after'));
    } finally {
      await fresh.dispose();
    }
  });
});
