import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MetadataScope, MetadataStore, TransactionOptions } from '../../core/ports.js';
import { GroupCommitter } from './group-commit.js';
import { ReadCache } from './read-cache.js';
import { SqliteIdentityQueries } from './identity-queries.js';
import { migrations } from './migrations.js';
import { SqliteQueries } from './queries.js';
import { SqliteLifecycleQueries } from './lifecycle-queries.js';
import { jobsGcQuotaScope, jobsGcQuotaStores } from './lifecycle-scope.js';
import { SqliteRetentionQueries, lifecycleScope, lifecycleStores } from './retention-queries.js';

/**
 * The embedded MetadataStore on SQLite (better-sqlite3). Two connections: one writer, used by one
 * transaction at a time (the group committer orders them and shares fsyncs between them), and one reader, which in WAL mode sees every
 * committed write and never a half-done transaction. `synchronous = FULL` makes each commit durable
 * before it is acknowledged, which WAL's usual NORMAL does not promise across a power loss.
 */
export class SqliteMetadataStore implements MetadataStore {
  readonly repositories: MetadataScope['repositories'];
  readonly blobLinks: MetadataScope['blobLinks'];
  readonly manifests: MetadataScope['manifests'];
  readonly tags: MetadataScope['tags'];
  readonly uploads: MetadataScope['uploads'];
  readonly users: MetadataScope['users'];
  readonly projects: MetadataScope['projects'];
  readonly members: MetadataScope['members'];
  readonly robots: MetadataScope['robots'];
  readonly settings: MetadataScope['settings'];
  readonly retention: MetadataScope['retention'];
  readonly immutableRules: MetadataScope['immutableRules'];
  readonly jobs: MetadataScope['jobs'];
  readonly gc: MetadataScope['gc'];
  readonly quotas: MetadataScope['quotas'];

  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly writes: SqliteQueries;
  private readonly writeScope: MetadataScope;
  private readonly committer: GroupCommitter;
  private readonly tagLists = new ReadCache<string[]>();

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.writer = openConnection(path);
    migrate(this.writer);
    this.reader = openConnection(path);
    this.writes = new SqliteQueries(this.writer);
    this.committer = new GroupCommitter(this.writer);
    this.writeScope = {
      ...scopeOver(this.writes, new SqliteIdentityQueries(this.writer)),
      ...lifecycleScope(new SqliteRetentionQueries(this.writer)),
      ...jobsGcQuotaScope(new SqliteLifecycleQueries(this.writer), this),
    };
    const reads = {
      ...scopeOver(new SqliteQueries(this.reader), new SqliteIdentityQueries(this.reader)),
      ...lifecycleScope(new SqliteRetentionQueries(this.reader)),
      ...jobsGcQuotaScope(new SqliteLifecycleQueries(this.reader), this),
    };
    // Reads go to the reader connection; each write outside an explicit transaction is one transaction.
    const inTx = <R>(fn: (tx: MetadataScope) => Promise<R>, options?: TransactionOptions) =>
      this.transaction(fn, options);
    this.repositories = {
      ...reads.repositories,
      delete: (name) => inTx((tx) => tx.repositories.delete(name)),
    };
    this.blobLinks = {
      ...reads.blobLinks,
      link: (r, d, size) => inTx((tx) => tx.blobLinks.link(r, d, size)),
      unlink: (r, d) => inTx((tx) => tx.blobLinks.unlink(r, d)),
    };
    this.manifests = {
      ...reads.manifests,
      put: (m) => inTx((tx) => tx.manifests.put(m)),
      delete: (r, d) => inTx((tx) => tx.manifests.delete(r, d)),
      recordPulls: (pulls) => inTx((tx) => tx.manifests.recordPulls(pulls)),
    };
    this.tags = {
      ...reads.tags,
      // Whole tag lists of big repositories are the costliest read clients repeat; cache them per commit.
      list: (r, page) =>
        this.tagLists.get(`${r}\u0000${page.last ?? ''}\u0000${page.limit}`, () => reads.tags.list(r, page)),
      set: (r, t, d, at) => inTx((tx) => tx.tags.set(r, t, d, at)),
      delete: (r, t) => inTx((tx) => tx.tags.delete(r, t)),
      deleteFor: (r, d) => inTx((tx) => tx.tags.deleteFor(r, d)),
    };
    this.uploads = {
      ...reads.uploads,
      create: (session) => inTx((tx) => tx.uploads.create(session), { durable: false }),
      delete: (id) => inTx((tx) => tx.uploads.delete(id)),
    };
    this.users = {
      ...reads.users,
      create: (user, at) => inTx((tx) => tx.users.create(user, at)),
      update: (id, patch, at) => inTx((tx) => tx.users.update(id, patch, at)),
      delete: (id) => inTx((tx) => tx.users.delete(id)),
    };
    this.projects = {
      ...reads.projects,
      create: (project, at) => inTx((tx) => tx.projects.create(project, at)),
      update: (id, patch, at) => inTx((tx) => tx.projects.update(id, patch, at)),
      delete: (id) => inTx((tx) => tx.projects.delete(id)),
    };
    this.members = {
      ...reads.members,
      add: (p, u, role) => inTx((tx) => tx.members.add(p, u, role)),
      update: (p, m, role) => inTx((tx) => tx.members.update(p, m, role)),
      remove: (p, m) => inTx((tx) => tx.members.remove(p, m)),
    };
    this.robots = {
      ...reads.robots,
      create: (robot, at) => inTx((tx) => tx.robots.create(robot, at)),
      update: (id, patch, at) => inTx((tx) => tx.robots.update(id, patch, at)),
      delete: (id) => inTx((tx) => tx.robots.delete(id)),
    };
    this.settings = {
      ...reads.settings,
      putIfAbsent: (key, value) => inTx((tx) => tx.settings.putIfAbsent(key, value)),
      put: (key, value) => inTx((tx) => tx.settings.put(key, value)),
    };
    ({ retention: this.retention, immutableRules: this.immutableRules } = lifecycleStores(reads, inTx));
    ({ jobs: this.jobs, gc: this.gc, quotas: this.quotas } = jobsGcQuotaStores(reads, inTx));
  }

  transaction<T>(fn: (tx: MetadataScope) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return this.committer
      .run(() => fn(this.writeScope), options.durable ?? true)
      .finally(() => this.tagLists.invalidate());
  }

  async close(): Promise<void> {
    await this.committer.idle();
    this.reader.close();
    this.writer.close();
  }
}

function openConnection(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

function migrate(db: Database.Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
  );
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
        migration.version,
        Date.now(),
      );
    })();
  }
}

/** The async port over one connection's synchronous queries. */
function scopeOver(
  q: SqliteQueries,
  i: SqliteIdentityQueries,
): Omit<MetadataScope, 'retention' | 'immutableRules' | 'jobs' | 'gc' | 'quotas'> {
  const lift =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): Promise<R> =>
      // The executor turns a synchronous throw (a constraint failure, say) into a rejection.
      new Promise<R>((resolve) => resolve(fn(...args)));
  return {
    repositories: {
      exists: lift(q.repositoryExists.bind(q)),
      list: lift(q.repositoryList.bind(q)),
      listInProject: lift(q.repositoryListInProject.bind(q)),
      get: lift(q.repositoryGet.bind(q)),
      delete: lift(q.repositoryDelete.bind(q)),
    },
    blobLinks: {
      get: lift(q.linkGet.bind(q)),
      link: lift(q.link.bind(q)),
      unlink: lift(q.unlink.bind(q)),
      missing: lift(q.missingLinks.bind(q)),
      repositoriesHolding: lift(q.repositoriesHolding.bind(q)),
    },
    manifests: {
      get: lift(q.manifestGet.bind(q)),
      put: lift(q.manifestPut.bind(q)),
      delete: lift(q.manifestDelete.bind(q)),
      missing: lift(q.missingManifests.bind(q)),
      referrers: lift(q.referrers.bind(q)),
      list: lift(q.manifestList.bind(q)),
      children: lift(q.manifestChildren.bind(q)),
      parents: lift(q.manifestParents.bind(q)),
      recordPulls: lift(q.recordPulls.bind(q)),
    },
    tags: {
      resolve: lift(q.tagResolve.bind(q)),
      set: lift(q.tagSet.bind(q)),
      delete: lift(q.tagDelete.bind(q)),
      list: lift(q.tagList.bind(q)),
      listFor: lift(q.tagsFor.bind(q)),
      deleteFor: lift(q.tagsDeleteFor.bind(q)),
    },
    uploads: {
      create: lift(q.uploadCreate.bind(q)),
      get: lift(q.uploadGet.bind(q)),
      delete: lift(q.uploadDelete.bind(q)),
      listStartedBefore: lift(q.uploadsStartedBefore.bind(q)),
    },
    users: {
      create: lift(i.userCreate.bind(i)),
      get: lift(i.userGet.bind(i)),
      getByName: lift(i.userGetByName.bind(i)),
      passwordHash: lift(i.userPasswordHash.bind(i)),
      list: lift(i.userList.bind(i)),
      update: lift(i.userUpdate.bind(i)),
      delete: lift(i.userDelete.bind(i)),
    },
    projects: {
      create: lift(i.projectCreate.bind(i)),
      get: lift(i.projectGet.bind(i)),
      getByName: lift(i.projectGetByName.bind(i)),
      list: lift(i.projectList.bind(i)),
      update: lift(i.projectUpdate.bind(i)),
      delete: lift(i.projectDelete.bind(i)),
    },
    members: {
      list: lift(i.memberList.bind(i)),
      get: lift(i.memberGet.bind(i)),
      roleOf: lift(i.memberRoleOf.bind(i)),
      add: lift(i.memberAdd.bind(i)),
      update: lift(i.memberUpdate.bind(i)),
      remove: lift(i.memberRemove.bind(i)),
    },
    robots: {
      create: lift(i.robotCreate.bind(i)),
      get: lift(i.robotGet.bind(i)),
      getByName: lift(i.robotGetByName.bind(i)),
      secretHash: lift(i.robotSecretHash.bind(i)),
      list: lift(i.robotList.bind(i)),
      update: lift(i.robotUpdate.bind(i)),
      delete: lift(i.robotDelete.bind(i)),
    },
    settings: {
      get: lift(i.settingGet.bind(i)),
      putIfAbsent: lift(i.settingPutIfAbsent.bind(i)),
      put: lift(i.settingPut.bind(i)),
    },
  };
}
