// Three nodes with authentication on start at the same moment on one empty database and one empty
// bucket, without BERTH_ADMIN_PASSWORD: they race on the migrations, on creating `admin` (whose random
// password only the winner may show) and on the token signing key. Exactly one of each must come out,
// and a token any node issues must be accepted by every other node.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from 'pg';
import { migrations } from '../../src/metadata/postgres/migrations.js';
import { basic } from '../api/support.js';
import { startCluster, type Cluster, type ClusterNode } from '../support/cluster.js';
import { sharedSetup } from '../support/setup.js';

const announcement = /Berth created the user "admin" with the password: (\S+)/g;

/** The `kid` in a JWT's protected header. */
function keyIdOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as {
    kid?: string;
  };
  return header.kid ?? '';
}

describe('cluster: three nodes with authentication start together on a fresh installation', () => {
  let cluster: Cluster;
  let db: Client;
  /** What the winning node printed (found by the second test). */
  let adminPassword: string | undefined;

  const ready = sharedSetup(async () => {
    // No adminPassword: each node would generate one if it created admin.
    cluster = await startCluster({ auth: { enabled: true } });
    db = new Client({ connectionString: cluster.database.url });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await cluster?.dispose();
  });

  const query = async <T extends Record<string, unknown>>(sql: string): Promise<T[]> =>
    (await db.query<T>(sql)).rows;

  it('ran each migration once, in one transaction', async () => {
    await ready();
    const rows = await query<{ version: number; applied_at: Date }>(
      'SELECT version, applied_at FROM schema_migrations ORDER BY version',
    );
    assert.deepEqual(
      rows.map((row) => row.version),
      migrations.map((migration) => migration.version).sort((x, y) => x - y),
      'every version this build knows, each exactly once',
    );
    // now() is the transaction's start: one value means one node's one transaction applied them all.
    const times = new Set(rows.map((row) => row.applied_at.toISOString()));
    assert.equal(times.size, 1, `applied at ${[...times].join(', ')}`);
  });

  it('created exactly one admin, and exactly one node showed and saved its password', async () => {
    await ready();
    const users = await query<{ username: string; sysadmin: boolean }>(
      'SELECT username, sysadmin FROM users',
    );
    assert.deepEqual(users, [{ username: 'admin', sysadmin: true }]);
    const library = await query<{ public: boolean }>("SELECT public FROM projects WHERE name = 'library'");
    assert.deepEqual(library, [{ public: true }], 'one public project library');

    const shown = cluster.nodes.map((node) => [...node.output.matchAll(announcement)].map((m) => m[1]!));
    const showing = cluster.nodes.filter((_, i) => shown[i]!.length > 0);
    assert.equal(
      showing.length,
      1,
      `nodes that printed a password: ${showing.map((n) => n.name).join(', ')}`,
    );
    const winner = showing[0]!;
    const printed = shown[cluster.nodes.indexOf(winner)]!;
    assert.equal(printed.length, 1, 'printed once');
    const password = printed[0]!;

    const saving = cluster.nodes.filter((node) => existsSync(join(node.dataDir, 'admin-password')));
    assert.deepEqual(
      saving.map((node) => node.name),
      [winner.name],
      'only the node that created admin wrote admin-password',
    );
    const file = join(winner.dataDir, 'admin-password');
    assert.equal(await readFile(file, 'utf8'), `${password}\n`);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    for (const node of cluster.nodes) {
      const created = node.output
        .split('\n')
        .filter((line) => line.includes('created the system administrator'));
      assert.equal(created.length, node === winner ? 1 : 0, `node ${node.name} logs creating admin`);
    }

    // The printed password is admin's on every node.
    for (const node of cluster.nodes) {
      const res = await fetch(`${node.base}/v2/`, { headers: { authorization: basic('admin', password) } });
      assert.equal(res.status, 200, `admin logs in on ${node.name}`);
    }
    adminPassword = password;
  });

  it("a token any node's /service/token issues is accepted by every node: one shared signing key", async () => {
    await ready();
    assert.ok(adminPassword !== undefined, 'the previous test found the password');
    const keys = await query<{ value: string }>("SELECT value FROM settings WHERE key = 'token-signing-key'");
    assert.equal(keys.length, 1);
    const storedKid = (JSON.parse(keys[0]!.value) as { kid: string }).kid;

    const tokenFrom = async (node: ClusterNode): Promise<string> => {
      const res = await fetch(`${node.base}/service/token?service=berth&scope=registry:catalog:*`, {
        headers: { authorization: basic('admin', adminPassword!) },
      });
      assert.equal(res.status, 200, `token from ${node.name}`);
      const body = (await res.json()) as { token: string };
      return body.token;
    };
    for (const issuer of cluster.nodes) {
      const token = await tokenFrom(issuer);
      assert.equal(keyIdOf(token), storedKid, `node ${issuer.name} signs with the stored key`);
      for (const node of cluster.nodes) {
        const headers = { authorization: `Bearer ${token}` };
        const base = await fetch(`${node.base}/v2/`, { headers });
        assert.equal(base.status, 200, `token of ${issuer.name} on ${node.name}: /v2/`);
        const catalog = await fetch(`${node.base}/v2/_catalog`, { headers });
        assert.equal(catalog.status, 200, `token of ${issuer.name} on ${node.name}: catalog`);
        await catalog.arrayBuffer();
      }
      // And a token that is not signed with that key is refused everywhere.
      const [head, payload, signature] = token.split('.') as [string, string, string];
      const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
      for (const node of cluster.nodes) {
        const res = await fetch(`${node.base}/v2/`, {
          headers: { authorization: `Bearer ${head}.${payload}.${flipped}` },
        });
        assert.equal(res.status, 401, `forged token refused on ${node.name}`);
      }
    }
  });
});
