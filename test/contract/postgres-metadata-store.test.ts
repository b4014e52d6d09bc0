import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import type { Digest } from '../../src/core/oci/digest.js';
import { PostgresMetadataStore } from '../../src/metadata/postgres/store.js';
import { createDatabase, type TestDatabase } from '../support/postgres.js';
import { metadataStoreContract } from './metadata-store.contract.js';

const digestOf = (n: number): Digest => `sha256:${n.toString(16).padStart(64, '0')}` as Digest;

metadataStoreContract('postgres', async () => {
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
});

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
      .query<{ version: number }>('SELECT version FROM schema_migrations')
      .finally(() => client.end());
    assert.deepEqual(versions.rows, [{ version: 1 }]);
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
