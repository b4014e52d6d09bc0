import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { GroupCommitter } from '../../src/metadata/sqlite/group-commit.js';

/** PRAGMA synchronous as a number: 1 = NORMAL (no fsync at commit in WAL mode), 2 = FULL. */
function synchronous(db: Database.Database): number {
  return db.pragma('synchronous', { simple: true }) as number;
}

describe('SQLite group commit durability', () => {
  let dir: string;
  let db: Database.Database;
  let committer: GroupCommitter;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-group-commit-'));
    db = new Database(join(dir, 'db.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (v INTEGER)');
    committer = new GroupCommitter(db);
  });
  after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const insert = (v: number) => () => Promise.resolve(db.prepare('INSERT INTO t (v) VALUES (?)').run(v));

  it('commits a batch of relaxed transactions without FULL sync, and visibly', async () => {
    await committer.run(insert(1), false);
    assert.equal(synchronous(db), 1);
    assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 1);
  });

  it('commits with FULL sync as soon as one transaction of the batch is durable', async () => {
    await Promise.all([committer.run(insert(2), false), committer.run(insert(3), true)]);
    assert.equal(synchronous(db), 2);
    await committer.run(insert(4));
    assert.equal(synchronous(db), 2, 'durable is the default');
    assert.deepEqual(db.prepare('SELECT v FROM t ORDER BY v').pluck().all(), [1, 2, 3, 4]);
  });
});
