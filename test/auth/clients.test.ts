// Real clients against a Berth with authentication on: skopeo, buildah and podman log in (as a user and as a
// robot), push and pull; a wrong password is refused by each; an anonymous push is refused and stores nothing.
// Each login writes its own auth file, so no client borrows another's credentials.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { roles } from '../../src/core/iam/model.js';
import type { TestBerth } from '../support/berth.js';
import {
  buildScratchImage,
  createSandbox,
  requireClients,
  type Client,
  type Sandbox,
  type ScratchImage,
} from '../support/clients.js';
import { sharedSetup } from '../support/setup.js';
import {
  addMember,
  addProject,
  addRobot,
  addUser,
  adminPassword,
  basic,
  startAuthBerth,
} from './fixtures.js';

const user = { name: 'dev', secret: 'Dev3loperPass' };
const robotSecret = 'Rob0tSecretValue';
const clients: Client[] = ['skopeo', 'buildah', 'podman'];

describe('auth e2e: skopeo, buildah and podman log in, push and pull', () => {
  let berth: TestBerth;
  let sandbox: Sandbox;
  let image: ScratchImage;
  let layout: string;
  let robot = { name: '', secret: robotSecret };
  const statuses: number[] = [];
  /** Every request: method, path and the Authorization scheme it carried. */
  const requests: { method: string; path: string; scheme: string }[] = [];

  const ready = sharedSetup(async () => {
    await requireClients(clients);
    berth = await startAuthBerth();
    berth.server.prependListener('request', (req, res) => {
      const scheme = (req.headers.authorization ?? 'none').split(' ')[0]!.toLowerCase();
      requests.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, scheme });
      res.once('finish', () => statuses.push(res.statusCode));
    });
    const team = await addProject(berth, 'team');
    await addMember(berth, team, await addUser(berth, user.name, user.secret), roles.developer);
    robot = {
      name: (await addRobot(berth, team, 'ci', robotSecret, ['pull', 'push'])).name,
      secret: robotSecret,
    };
    sandbox = await createSandbox(`127.0.0.1:${berth.port}`);
    image = await buildScratchImage(sandbox, {
      name: 'localhost/auth/tiny:1',
      layers: [{ '/hello.txt': 'hello auth\n' }],
    });
    layout = join(sandbox.dir, 'layout');
    await sandbox.run('buildah', ['push', '--quiet', image.name, `oci:${layout}:tiny`]);
  });
  after(async () => {
    await sandbox?.dispose();
    await berth?.dispose();
    assert.deepEqual(
      statuses.filter((s) => s >= 500),
      [],
      'Berth answered no request with a server error',
    );
  });

  const authFile = (name: string) => join(sandbox.dir, `auth-${name}.json`);

  function login(client: Client, who: { name: string; secret: string }, file: string) {
    return sandbox.run(client, [
      'login',
      '--tls-verify=false',
      '--authfile',
      file,
      '-u',
      who.name,
      '-p',
      who.secret,
      sandbox.registry,
    ]);
  }

  async function push(client: Client, file: string, repository: string): Promise<void> {
    const target = `${sandbox.registry}/${repository}:1`;
    if (client === 'skopeo') {
      await sandbox.run('skopeo', [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        '--dest-authfile',
        file,
        `oci:${layout}:tiny`,
        `docker://${target}`,
      ]);
    } else {
      await sandbox.run(client, [
        'push',
        '--quiet',
        '--tls-verify=false',
        '--authfile',
        file,
        image.name,
        `docker://${target}`,
      ]);
    }
  }

  async function pull(client: Client, file: string, repository: string): Promise<void> {
    const source = `${sandbox.registry}/${repository}:1`;
    if (client === 'skopeo') {
      const into = join(sandbox.dir, `pulled-${repository.replace(/\W/g, '_')}`);
      await sandbox.run('skopeo', [
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        '--src-authfile',
        file,
        `docker://${source}`,
        `oci:${into}:x`,
      ]);
    } else {
      await sandbox.run(client, ['pull', '--quiet', '--tls-verify=false', '--authfile', file, source]);
    }
  }

  /** The tags Berth holds for a repository, read as the admin. */
  async function tags(repository: string): Promise<string[]> {
    const response = await fetch(`${berth.base}/v2/${repository}/tags/list`, {
      headers: { Authorization: basic('admin', adminPassword) },
    });
    if (response.status === 404) return [];
    return ((await response.json()) as { tags: string[] }).tags;
  }

  for (const client of clients) {
    it(`${client}: a wrong password is refused`, async () => {
      await ready();
      await assert.rejects(
        login(client, { name: user.name, secret: 'Wr0ngPassword' }, authFile(`${client}-wrong`)),
        (error: Error) => {
          assert.match(error.message, /invalid username\/password|unauthorized/i);
          return true;
        },
      );
    });

    for (const [kind, who] of [
      ['user', () => user],
      ['robot', () => robot],
    ] as const) {
      it(`${client}: logs in as a ${kind}, pushes and pulls`, async () => {
        await ready();
        const file = authFile(`${client}-${kind}`);
        const result = await login(client, who(), file);
        assert.match(result.stdout + result.stderr, /Login Succeeded/i);
        const repository = `team/${client}-${kind}`;
        const first = requests.length;
        await push(client, file, repository);
        assert.deepEqual(await tags(repository), ['1']);
        await pull(client, file, repository);
        const session = requests.slice(first);
        assert.ok(
          session.some((r) => r.path === '/service/token'),
          'the client fetched a token',
        );
        const manifestPut = session.find(
          (r) => r.method === 'PUT' && r.path === `/v2/${repository}/manifests/1`,
        );
        assert.equal(manifestPut?.scheme, 'bearer', 'the push carried a bearer token');
        assert.ok(
          session.some(
            (r) => r.method === 'GET' && r.path.startsWith(`/v2/${repository}/`) && r.scheme === 'bearer',
          ),
        );
      });
    }
  }

  it('an anonymous push is refused and leaves nothing stored', async () => {
    await ready();
    const blobsBefore = await countBlobs(berth);
    for (const repository of ['library/anonymous', 'team/anonymous']) {
      await assert.rejects(
        sandbox.run('skopeo', [
          'copy',
          '--quiet',
          '--dest-tls-verify=false',
          '--dest-no-creds',
          `oci:${layout}:tiny`,
          `docker://${sandbox.registry}/${repository}:1`,
        ]),
        /unauthorized|authentication required|denied/i,
      );
      assert.deepEqual(await tags(repository), []);
      assert.equal(await berth.metadata.repositories.exists(repository), false);
    }
    await assert.rejects(
      sandbox.run('podman', [
        'push',
        '--quiet',
        '--tls-verify=false',
        '--authfile',
        authFile('none'),
        image.name,
        `docker://${sandbox.registry}/library/anonymous:2`,
      ]),
    );
    assert.equal(await countBlobs(berth), blobsBefore);
    assert.deepEqual(await berth.metadata.uploads.listStartedBefore(new Date(Date.now() + 60_000), 10), []);
  });
});

async function countBlobs(berth: TestBerth): Promise<number> {
  let count = 0;
  for await (const blob of berth.blobStore.list()) if (blob.size >= 0) count++;
  return count;
}
