import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Digest } from '../../src/core/oci/digest.js';
import { migrations } from '../../src/metadata/sqlite/migrations.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/store.js';
import { identityStoreContract } from './identity-store.contract.js';
import { lifecycleStoreContract } from './lifecycle-store.contract.js';
import { metadataStoreContract, type MetadataHarness } from './metadata-store.contract.js';
import { retentionStoreContract } from './retention-store.contract.js';

const digest = `sha256:${'1'.repeat(64)}` as Digest;
const user = { username: 'u', email: '', realname: '', comment: '', sysadmin: false, passwordHash: 'h' };

async function harness(): Promise<MetadataHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-sqlite-contract-'));
  const store = new SqliteMetadataStore(join(dir, 'berth.db'));
  return {
    store,
    dispose: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

metadataStoreContract('sqlite', harness);
lifecycleStoreContract('sqlite', harness);
identityStoreContract('sqlite', harness);
retentionStoreContract('sqlite', harness);

describe('SqliteMetadataStore migrations', () => {
  it('upgrades a version 1 database in place, keeping its manifests', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-sqlite-upgrade-'));
    try {
      const path = join(dir, 'berth.db');
      const old = new Database(path);
      old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      old.exec(migrations.find((m) => m.version === 1)!.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (1, 0)').run();
      old
        .prepare("INSERT INTO repositories (id, name, created_at) VALUES (1, 'old/app', 1600000000000)")
        .run();
      old
        .prepare(
          "INSERT INTO manifests (repository_id, digest, media_type, size, created_at) VALUES (1, ?, 'm', 1, ?)",
        )
        .run(digest, 1_700_000_000_000);
      old.close();
      const store = new SqliteMetadataStore(path);
      try {
        assert.deepEqual(await store.repositories.get('old/app'), {
          name: 'old/app',
          artifactCount: 1,
          pullCount: 0,
          createdAt: new Date(1_600_000_000_000),
          updatedAt: new Date(1_700_000_000_000),
        });
        await store.manifests.recordPulls([
          { repository: 'old/app', digest, at: new Date(1_800_000_000_000) },
        ]);
        assert.deepEqual(
          (await store.manifests.get('old/app', digest))?.pulledAt,
          new Date(1_800_000_000_000),
        );
        assert.equal((await store.users.create(user, new Date())).ok, true);
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
