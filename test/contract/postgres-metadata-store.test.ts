import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { unrestrictedAccess } from '../../src/core/content/access.js';
import { BlobService } from '../../src/core/content/blobs.js';
import { systemClock, type BlobStore } from '../../src/core/ports.js';
import type { Digest } from '../../src/core/oci/digest.js';
import { migrations } from '../../src/metadata/postgres/migrations.js';
import { PostgresMetadataStore } from '../../src/metadata/postgres/store.js';
import { createDatabase, type TestDatabase } from '../support/postgres.js';
import { identityStoreContract } from './identity-store.contract.js';
import { lifecycleStoreContract } from './lifecycle-store.contract.js';
import { metadataStoreContract, type MetadataHarness } from './metadata-store.contract.js';
import { retentionStoreContract } from './retention-store.contract.js';

const digestOf = (n: number): Digest => `sha256:${n.toString(16).padStart(64, '0')}` as Digest;

async function harness(): Promise<MetadataHarness> {
  const database = await createDatabase();
  try {
    const store = await PostgresMetadataStore.connect(database.url);
    return {
      store,
      dispose: async () => {
        await store.close();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

metadataStoreContract('postgres', harness);
lifecycleStoreContract('postgres', harness);
identityStoreContract('postgres', harness);
retentionStoreContract('postgres', harness);

describe('PostgresMetadataStore migrations', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createDatabase();
  });
  after(async () => database.drop());

  it('lets two stores migrate one fresh database at once, and a restart migrate nothing', async () => {
    const stores = await Promise.all([
      PostgresMetadataStore.connect(database.url),
      PostgresMetadataStore.connect(database.url),
    ]);
    try {
      const [first, second] = stores;
      await first.blobLinks.link('both/app', digestOf(1), 7);
      assert.deepEqual(await second.blobLinks.get('both/app', digestOf(1)), { size: 7 });
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
    const restarted = await PostgresMetadataStore.connect(database.url);
    await restarted.close();
    const client = new Client({ connectionString: database.url });
    await client.connect();
    const versions = await client
      .query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
      .finally(() => client.end());
    assert.deepEqual(
      versions.rows,
      migrations.map((m) => ({ version: m.version })).sort((a, b) => a.version - b.version),
    );
  });
});

describe('PostgresMetadataStore upgrade', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createDatabase();
  });
  after(async () => database.drop());

  it('upgrades a version 1 database in place, keeping its manifests', async () => {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(
        'CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)',
      );
      await client.query(migrations.find((m) => m.version === 1)!.sql);
      await client.query('INSERT INTO schema_migrations VALUES (1, now())');
      const repo = await client.query<{ id: string }>(
        "INSERT INTO repositories (name, created_at) VALUES ('old/app', $1) RETURNING id",
        [new Date(1_600_000_000_000)],
      );
      await client.query(
        "INSERT INTO manifests (repository_id, digest, media_type, size, created_at) VALUES ($1, $2, 'm', 1, $3)",
        [repo.rows[0]!.id, digestOf(1), new Date(1_700_000_000_000)],
      );
    } finally {
      await client.end();
    }
    const store = await PostgresMetadataStore.connect(database.url);
    try {
      assert.deepEqual(await store.repositories.get('old/app'), {
        name: 'old/app',
        artifactCount: 1,
        pullCount: 0,
        createdAt: new Date(1_600_000_000_000),
        updatedAt: new Date(1_700_000_000_000),
      });
      await store.manifests.recordPulls([
        { repository: 'old/app', digest: digestOf(1), at: new Date(1_800_000_000_000) },
      ]);
      assert.deepEqual(
        (await store.manifests.get('old/app', digestOf(1)))?.pulledAt,
        new Date(1_800_000_000_000),
      );
      const user = {
        username: 'u',
        email: '',
        realname: '',
        comment: '',
        sysadmin: false,
        passwordHash: 'h',
      };
      assert.equal((await store.users.create(user, new Date())).ok, true);
    } finally {
      await store.close();
    }
  });
});

/** Mounts never touch bytes: any BlobStore call here is a failure of the test's premise. */
const noBlobStore = new Proxy({} as BlobStore, {
  get: (_target, name) => () => Promise.reject(new Error(`unexpected BlobStore.${String(name)}`)),
});

describe('PostgresMetadataStore across nodes', () => {
  let database: TestDatabase;
  let stores: PostgresMetadataStore[] = [];
  before(async () => {
    database = await createDatabase();
    stores = await Promise.all([1, 2, 3].map(() => PostgresMetadataStore.connect(database.url)));
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await database?.drop();
  });

  it('completes cross-repository mounts racing in opposite directions on three nodes', async () => {
    const [a, b] = ['mounts/a', 'mounts/b'];
    const blobs = Array.from({ length: 12 }, (_, i) => digestOf(500 + i));
    for (const digest of blobs) {
      await stores[0]!.blobLinks.link(a, digest, 1);
      await stores[0]!.blobLinks.link(b, digest, 1);
    }
    // Mounts a -> b and b -> a at once on three nodes: each reads one repository's link and writes the
    // other's, so unless both take their repository locks in the same order they deadlock.
    const services = stores.map((store) => new BlobService(noBlobStore, store, systemClock));
    const outcomes = await Promise.allSettled(
      blobs.flatMap((digest, i) => [
        services[i % 3]!.mountOrStart(b, digest, a, unrestrictedAccess),
        services[(i + 1) % 3]!.mountOrStart(a, digest, b, unrestrictedAccess),
      ]),
    );
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? o.value.mounted : String(o.reason))),
      blobs.flatMap(() => [true, true]),
    );
  });

  it('lets one putIfAbsent win when nodes race, and tells every node its value', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `race-${round}`;
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          stores[i % stores.length]!.settings.putIfAbsent(key, `node-${i}`),
        ),
      );
      const stored = await stores[0]!.settings.get(key);
      assert.ok(stored !== undefined);
      assert.deepEqual(
        results,
        results.map(() => stored),
      );
    }
  });

  it('gives one of two nodes creating the same user a conflict, never an error', async () => {
    const user = {
      username: 'twice',
      email: 'twice@example.com',
      realname: '',
      comment: '',
      sysadmin: false,
      passwordHash: 'h',
    };
    const results = await Promise.all(
      stores.map((store) => store.users.create(user, new Date(1_700_000_000_000))),
    );
    assert.equal(results.filter((result) => result.ok).length, 1);
    assert.equal(results.filter((result) => !result.ok).length, stores.length - 1);
  });

  it('counts every pull recorded by racing nodes', async () => {
    const repo = 'nodes/app';
    await stores[0]!.manifests.put({
      repository: repo,
      digest: digestOf(1),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 1,
      createdAt: new Date(1_700_000_000_000),
      blobs: [],
      children: [],
    });
    await stores[0]!.manifests.put({
      repository: repo,
      digest: digestOf(2),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 1,
      createdAt: new Date(1_700_000_000_000),
      blobs: [],
      children: [],
    });
    // Batches naming the manifests in opposite orders must not deadlock.
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        stores[i % stores.length]!.manifests.recordPulls(
          (i % 2 === 0 ? [1, 2] : [2, 1]).map((n) => ({
            repository: repo,
            digest: digestOf(n),
            at: new Date(i),
          })),
        ),
      ),
    );
    assert.equal((await stores[1]!.repositories.get(repo))?.pullCount, 60);
  });
});

describe('PostgresMetadataStore repository locks', () => {
  let database: TestDatabase;
  let store: PostgresMetadataStore;
  before(async () => {
    database = await createDatabase();
    store = await PostgresMetadataStore.connect(database.url);
  });
  after(async () => {
    await store?.close();
    await database?.drop();
  });

  it('holds a write outside a transaction until a transaction on the same repository commits', async () => {
    const repo = 'locks/same';
    await store.blobLinks.link(repo, digestOf(1), 1);
    let unlinked = false;
    let unlink: Promise<boolean> | undefined;
    await store.transaction(async (tx) => {
      assert.deepEqual(await tx.blobLinks.missing(repo, [digestOf(1)]), []);
      unlink = store.blobLinks.unlink(repo, digestOf(1)).then((removed) => (unlinked = removed));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(unlinked, false, 'the unlink must wait for the transaction that checked the link');
      await tx.manifests.put({
        repository: repo,
        digest: digestOf(2),
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 2,
        createdAt: new Date(1_700_000_000_000),
        blobs: [digestOf(1)],
        children: [],
      });
    });
    assert.equal(await unlink, true);
    assert.notEqual(await store.manifests.get(repo, digestOf(2)), undefined);
  });

  it('lets other repositories proceed while a transaction holds one', async () => {
    await store.transaction(async (tx) => {
      await tx.blobLinks.link('locks/held', digestOf(3), 3);
      await store.blobLinks.link('locks/other', digestOf(3), 3); // would hang if the lock were global
    });
    assert.deepEqual(await store.blobLinks.get('locks/other', digestOf(3)), { size: 3 });
  });
});
