import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { roles, type Project } from '../../src/core/iam/model.js';
import type { TestBerth } from '../support/berth.js';
import {
  addMember,
  addProject,
  addRobot,
  addUser,
  adminPassword,
  basic,
  errorCode,
  startAuthBerth,
  startUpload,
  TestClock,
  tokenFor,
  v2,
} from './fixtures.js';

const dev = basic('dev', 'Dev3loper!');
const admin = basic('admin', adminPassword);

async function pushBlob(
  berth: TestBerth,
  repository: string,
  content: string,
  authorization: string,
): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  const response = await v2(berth, `${repository}/blobs/uploads/?digest=${digest}`, authorization, {
    method: 'POST',
    body: content,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  assert.equal(response.status, 201, await response.text());
  return digest;
}

describe('/v2 authorization', () => {
  let berth: TestBerth;
  let team: Project;
  const clock = new TestClock();

  before(async () => {
    berth = await startAuthBerth({}, { clock });
    team = await addProject(berth, 'team');
    await addProject(berth, 'secret');
    await addMember(berth, team, await addUser(berth, 'dev', 'Dev3loper!'), roles.developer);
  });
  after(() => berth.dispose());

  it('GET /v2/ challenges without credentials and answers 200 with valid Basic credentials', async () => {
    const anonymous = await v2(berth, '');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.equal((await errorCode(anonymous)).code, 'UNAUTHORIZED');
    assert.equal((await v2(berth, '', dev)).status, 200);
    const wrong = await v2(berth, '', basic('dev', 'wrong'));
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    assert.equal((await v2(berth, '', 'Basic !!!')).status, 401);
    assert.equal((await v2(berth, '', 'Digest abc')).status, 401);
  });

  it('lets anyone pull from public projects and nobody anonymous push', async () => {
    const pull = await v2(berth, 'library/web/tags/list');
    assert.equal(pull.status, 404, 'allowed: the repository just does not exist');
    assert.equal((await errorCode(pull)).code, 'NAME_UNKNOWN');
    const privatePull = await v2(berth, 'team/app/tags/list');
    assert.equal(privatePull.status, 401);
    assert.equal(
      privatePull.headers.get('www-authenticate'),
      `Bearer realm="http://127.0.0.1:${berth.port}/service/token",service="berth",scope="repository:team/app:pull"`,
    );
    const push = await startUpload(berth, 'library/web');
    assert.equal(push.status, 401);
    assert.match(push.headers.get('www-authenticate') ?? '', /scope="repository:library\/web:pull,push"$/);
  });

  it('refuses an authenticated caller without permission with 403 DENIED', async () => {
    const pull = await v2(berth, 'secret/app/tags/list', dev);
    assert.equal(pull.status, 403);
    assert.equal((await errorCode(pull)).code, 'DENIED');
    assert.equal((await startUpload(berth, 'library/web', dev)).status, 403);
    assert.equal((await startUpload(berth, 'team/app', dev)).status, 202);
    const remove = await v2(berth, 'team/app/manifests/latest', dev, { method: 'DELETE' });
    assert.equal(remove.status, 403, 'a developer may not delete');
  });

  it('says when a push goes to a project that does not exist', async () => {
    const missing = await startUpload(berth, 'nope/app', dev);
    assert.equal(missing.status, 403);
    assert.deepEqual(await errorCode(missing), { code: 'DENIED', message: 'project nope does not exist' });
    const single = await startUpload(berth, 'alpine', admin);
    assert.equal(single.status, 403);
    assert.match((await errorCode(single)).message, /not in a project/);
    const token = await tokenFor(berth, ['repository:nope/app:pull,push'], ['dev', 'Dev3loper!']);
    const withToken = await startUpload(berth, 'nope/app', `Bearer ${token}`);
    assert.equal(withToken.status, 403);
    assert.match((await errorCode(withToken)).message, /project nope does not exist/);
  });

  it('keeps the catalog for system administrators', async () => {
    assert.equal((await v2(berth, '_catalog', admin)).status, 200);
    assert.equal((await v2(berth, '_catalog', dev)).status, 403);
  });

  it('verifies Basic credentials once a minute, not per request, yet sees a disabled robot', async () => {
    const robot = await addRobot(berth, team, 'cached', 'Rob0tSecret', ['pull']);
    const credentials = basic(robot.name, 'Rob0tSecret');
    const hasher = berth.auth.hasher;
    const verify = hasher.verify.bind(hasher);
    let verifications = 0;
    hasher.verify = (hash, secret) => {
      verifications++;
      return verify(hash, secret);
    };
    try {
      for (let i = 0; i < 5; i++)
        assert.equal((await v2(berth, 'team/app/tags/list', credentials)).status, 404);
      assert.equal(verifications, 1);
      await berth.metadata.robots.update(robot.id, { disabled: true }, new Date());
      clock.advance(6_000); // within the minute of the Basic cache, past the subject cache
      assert.equal((await v2(berth, 'team/app/tags/list', credentials)).status, 401);
    } finally {
      hasher.verify = verify;
    }
  });

  it('mounts across repositories only what the same decision lets the caller read', async () => {
    const shared = await pushBlob(berth, 'team/src', 'mounted bytes', dev);
    const hidden = await pushBlob(berth, 'secret/src', 'secret bytes', admin);

    const narrow = await tokenFor(berth, ['repository:team/dst:pull,push'], ['dev', 'Dev3loper!']);
    const notMounted = await v2(
      berth,
      `team/dst/blobs/uploads/?mount=${shared}&from=team/src`,
      `Bearer ${narrow}`,
      { method: 'POST' },
    );
    assert.equal(notMounted.status, 202, 'the token does not cover the source');

    const wide = await tokenFor(
      berth,
      ['repository:team/dst:pull,push', 'repository:team/src:pull'],
      ['dev', 'Dev3loper!'],
    );
    const mounted = await v2(
      berth,
      `team/dst/blobs/uploads/?mount=${shared}&from=team/src`,
      `Bearer ${wide}`,
      { method: 'POST' },
    );
    assert.equal(mounted.status, 201);

    const leak = await v2(berth, `team/dst/blobs/uploads/?mount=${hidden}&from=secret/src`, dev, {
      method: 'POST',
    });
    assert.equal(leak.status, 202, 'no mount from a project the caller cannot read');
    const automatic = await v2(berth, `team/dst/blobs/uploads/?mount=${hidden}`, dev, { method: 'POST' });
    assert.equal(automatic.status, 202);
    assert.equal((await v2(berth, `team/dst/blobs/${hidden}`, dev, { method: 'HEAD' })).status, 404);
  });
});

describe('challenge realm', () => {
  it('uses auth.externalUrl when set', async () => {
    const berth = await startAuthBerth({
      externalUrl: 'https://registry.example.com/',
      service: 'harbor-registry',
    });
    try {
      const response = await v2(berth, '');
      assert.equal(
        response.headers.get('www-authenticate'),
        'Bearer realm="https://registry.example.com/service/token",service="harbor-registry"',
      );
    } finally {
      await berth.dispose();
    }
  });

  it('derives the realm from a sane Host header only', async () => {
    const berth = await startAuthBerth();
    try {
      const { request } = await import('node:http');
      const challengeFor = (host: string) =>
        new Promise<string | undefined>((resolve, reject) => {
          const req = request(
            { host: '127.0.0.1', port: berth.port, path: '/v2/', headers: { Host: host } },
            (res) => {
              res.resume();
              resolve(res.headers['www-authenticate']);
            },
          );
          req.once('error', reject);
          req.end();
        });
      assert.match(
        (await challengeFor('registry.local:8443')) ?? '',
        /^Bearer realm="http:\/\/registry\.local:8443\/service\/token"/,
      );
      assert.match(
        (await challengeFor('evil",x="y')) ?? '',
        /^Bearer realm="http:\/\/localhost\/service\/token"/,
      );
    } finally {
      await berth.dispose();
    }
  });
});
