import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { roles } from '../../src/core/iam/model.js';
import { createLogger, redactedPaths } from '../../src/server/logger.js';
import { startTestBerth } from '../support/berth.js';
import {
  addMember,
  addProject,
  addRobot,
  addUser,
  basic,
  getToken,
  postToken,
  v2,
  type TokenResponse,
} from './fixtures.js';

const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('secrets in logs', () => {
  it('a whole session leaves no password, secret, token or Authorization value in the log', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const printed: string[] = [];
    // No configured admin password: the generated one must reach the console, never the log.
    const berth = await startTestBerth(
      { auth: { enabled: true }, log: { level: 'trace' } },
      { logger: createLogger('trace', stream), print: (text) => printed.push(text) },
    );
    const secrets: string[] = [];
    try {
      const adminPassword = /password: (\S+)/.exec(printed.join(''))![1]!;
      secrets.push(adminPassword);
      const team = await addProject(berth, 'team');
      const password = 'S3cretDevPassword';
      const robotSecret = 'R0botSecretValue';
      secrets.push(password, robotSecret);
      await addMember(berth, team, await addUser(berth, 'dev', password), roles.developer);
      const robot = await addRobot(berth, team, 'ci', robotSecret, ['pull', 'push']);

      // docker login: challenge, token with Basic and no scope, GET /v2/ with the token.
      assert.equal((await v2(berth, '')).status, 401);
      const login = await getToken(berth, [], ['dev', password], { account: 'dev', offline_token: 'true' });
      const loginBody = login.body as TokenResponse;
      secrets.push(loginBody.token, loginBody.refresh_token!);
      assert.equal((await v2(berth, '', `Bearer ${loginBody.token}`)).status, 200);

      // Push with a scoped token: a layer, a config and a manifest.
      const push = await getToken(berth, ['repository:team/app:pull,push'], ['dev', password]);
      const token = (push.body as TokenResponse).token;
      secrets.push(token);
      const bearer = `Bearer ${token}`;
      const layer = Buffer.from('layer bytes');
      const config = Buffer.from('{}');
      for (const blob of [layer, config]) {
        const response = await v2(berth, `team/app/blobs/uploads/?digest=${sha256(blob)}`, bearer, {
          method: 'POST',
          body: blob,
        });
        assert.equal(response.status, 201);
      }
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: {
            mediaType: 'application/vnd.oci.image.config.v1+json',
            digest: sha256(config),
            size: config.length,
          },
          layers: [
            {
              mediaType: 'application/vnd.oci.image.layer.v1.tar',
              digest: sha256(layer),
              size: layer.length,
            },
          ],
        }),
      );
      const put = await v2(berth, 'team/app/manifests/v1', bearer, {
        method: 'PUT',
        body: manifest,
        headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      });
      assert.equal(put.status, 201);

      // Pull as the robot, with Basic straight on /v2 and with a token from the OAuth2 form.
      const robotBasic = basic(robot.name, robotSecret);
      secrets.push(robotBasic.slice('Basic '.length));
      assert.equal((await v2(berth, 'team/app/manifests/v1', robotBasic)).status, 200);
      const oauth = await postToken(berth, {
        grant_type: 'password',
        username: robot.name,
        password: robotSecret,
        access_type: 'offline',
        scope: 'repository:team/app:pull',
        service: 'berth',
      });
      const oauthBody = oauth.body as TokenResponse;
      secrets.push(oauthBody.access_token, oauthBody.refresh_token!);
      assert.equal(
        (await v2(berth, `team/app/blobs/${sha256(layer)}`, `Bearer ${oauthBody.access_token}`)).status,
        200,
      );
      const refreshed = await postToken(berth, {
        grant_type: 'refresh_token',
        refresh_token: loginBody.refresh_token!,
        service: 'berth',
      });
      secrets.push((refreshed.body as TokenResponse).access_token);

      // Failed logins, through every door.
      const wrong = 'Wr0ngPasswordGuess';
      secrets.push(wrong, basic('dev', wrong).slice('Basic '.length));
      assert.equal((await getToken(berth, [], ['dev', wrong])).status, 401);
      assert.equal(
        (await postToken(berth, { grant_type: 'password', username: 'dev', password: wrong })).status,
        401,
      );
      assert.equal((await v2(berth, '', basic('dev', wrong))).status, 401);
      assert.equal((await v2(berth, '', `Bearer ${token}x`)).status, 401);

      // Secrets given to the logger by mistake are removed by configuration.
      berth.logger.info(
        { password, token, authorization: robotBasic, nested: { secret: robotSecret } },
        'careless',
      );
    } finally {
      await berth.dispose();
    }
    const log = lines.join('');
    assert.ok(log.includes('"msg":"request"'), 'the session was logged');
    assert.ok(log.includes('"account":"dev"'), 'who did it is logged');
    assert.ok(log.includes('[redacted]'));
    for (const secret of secrets) {
      assert.ok(secret.length >= 8);
      assert.equal(log.includes(secret), false, `a secret appears in the log: ${secret.slice(0, 4)}...`);
    }
    // Token pieces (the signature alone, the claims alone) would be just as bad.
    for (const secret of secrets.filter((s) => s.split('.').length === 3)) {
      for (const part of secret.split('.').slice(1)) assert.equal(log.includes(part), false);
    }
    assert.ok(redactedPaths.includes('*.refresh_token'));
  });
});
