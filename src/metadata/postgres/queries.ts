import type { QueryResult, QueryResultRow } from 'pg';
import type { Digest } from '../../core/oci/digest.js';
import type {
  Counted,
  ManifestRecord,
  ManifestWrite,
  MetadataScope,
  OffsetQuery,
  Page,
  RepositorySummary,
  UploadSession,
} from '../../core/ports.js';
import type { PostgresIdentityQueries } from './identity-queries.js';

/** What both a pg.Pool and a checked-out client offer: one parameterised statement at a time. */
export interface Queryable {
  query<R extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

/**
 * First key of the per-repository advisory locks (the second is a hash of the name). PostgreSQL keeps
 * two-key advisory locks apart from one-key ones, so this cannot collide with the migration lock.
 */
const REPOSITORY_LOCK_CLASS = 0x62657274; // "bert"

interface ManifestRow {
  name: string;
  digest: string;
  media_type: string;
  size: string; // bigint: pg returns int8 as a string, since it may exceed 2^53
  artifact_type: string | null;
  subject: string | null;
  annotations: Record<string, string> | null; // json: pg parses it
  created_at: Date;
  pulled_at: Date | null;
}

interface SummaryRow {
  name: string;
  created_at: Date;
  artifact_count: string; // count(): bigint
  pull_count: string; // sum(bigint): numeric
  last_push: Date | null;
}

interface UploadRow {
  id: string;
  repository: string;
  started_at: Date;
}

const manifestColumns = `r.name, m.digest, m.media_type, m.size, m.artifact_type, m.subject, m.annotations,
  m.created_at, m.pulled_at`;

/** Per-repository figures: manifests, pulls, latest push. Filtered by the WHERE clause appended to it. */
const summarySelect = `SELECT r.name, r.created_at, count(m.digest) AS artifact_count,
  coalesce(sum(m.pull_count), 0) AS pull_count, max(m.created_at) AS last_push
  FROM repositories r LEFT JOIN manifests m ON m.repository_id = r.id`;

/**
 * Names starting with `<project>/`, as a range in byte order (the column is COLLATE "C", so the index
 * serves it, and no LIKE wildcard in a name needs escaping); `$3` filters by substring.
 */
const inProject = 'r.name >= $1 AND r.name < $2 AND ($3::text IS NULL OR strpos(r.name, $3) > 0)';

/**
 * Every SQL statement of the PostgreSQL store, run on one Queryable: the pool (each call its own
 * implicit transaction) or a client inside BEGIN ... COMMIT.
 *
 * Inside a transaction, the first statement touching a repository takes a transaction-scoped advisory
 * lock on its name. READ COMMITTED alone would let two transactions read the same state and then both
 * write (two "next" tags, a manifest checked against a blob link another request is deleting); the lock
 * orders every transaction on one repository, across all nodes, the way SQLite's single writer orders
 * them all, while transactions on different repositories still run in parallel. Statements that span
 * repositories (`repositories.list`, `listInProject`, `repositoriesHolding`, `recordPulls`) take no lock.
 */
export class PostgresQueries {
  private readonly locked = new Set<string>();

  constructor(
    private readonly db: Queryable,
    private readonly inTransaction: boolean,
  ) {}

  private async enter(repository: string): Promise<void> {
    if (!this.inTransaction || this.locked.has(repository)) return;
    await this.db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      REPOSITORY_LOCK_CLASS,
      repository,
    ]);
    this.locked.add(repository);
  }

  /**
   * The repository's id, creating the row if needed. Safe against a concurrent creator: ON CONFLICT DO
   * NOTHING waits for the other insert and then yields no row, and under READ COMMITTED the following
   * SELECT takes a fresh snapshot that sees the committed row.
   */
  private async ensureRepository(name: string): Promise<string> {
    const select = 'SELECT id FROM repositories WHERE name = $1';
    const found = await this.db.query<{ id: string }>(select, [name]);
    if (found.rows[0] !== undefined) return found.rows[0].id;
    const inserted = await this.db.query<{ id: string }>(
      'INSERT INTO repositories (name, created_at) VALUES ($1, now()) ON CONFLICT (name) DO NOTHING RETURNING id',
      [name],
    );
    const row = inserted.rows[0] ?? (await this.db.query<{ id: string }>(select, [name])).rows[0];
    if (row === undefined) throw new Error(`repository ${name} vanished while it was being created`);
    return row.id;
  }

  async repositoryExists(name: string): Promise<boolean> {
    await this.enter(name);
    const result = await this.db.query('SELECT 1 FROM repositories WHERE name = $1', [name]);
    return result.rows.length > 0;
  }

  async repositoryList(page: Page): Promise<string[]> {
    const result = await this.db.query<{ name: string }>(
      'SELECT name FROM repositories WHERE name > $1 ORDER BY name LIMIT $2',
      [page.last ?? '', page.limit],
    );
    return result.rows.map((row) => row.name);
  }

  async repositoryListInProject(
    project: string,
    query: OffsetQuery & { q?: string },
  ): Promise<Counted<RepositorySummary>> {
    const filter = [`${project}/`, `${project}0`, query.q ?? null];
    const rows = await this.db.query<SummaryRow>(
      `${summarySelect} WHERE ${inProject} GROUP BY r.id ORDER BY r.name LIMIT $4 OFFSET $5`,
      [...filter, query.limit, query.offset],
    );
    const total = await this.db.query<{ total: string }>(
      `SELECT count(*) AS total FROM repositories r WHERE ${inProject}`,
      filter,
    );
    return { items: rows.rows.map(toRepositorySummary), total: Number(total.rows[0]?.total ?? 0) };
  }

  async repositoryGet(name: string): Promise<RepositorySummary | undefined> {
    await this.enter(name);
    const result = await this.db.query<SummaryRow>(`${summarySelect} WHERE r.name = $1 GROUP BY r.id`, [
      name,
    ]);
    const row = result.rows[0];
    return row === undefined ? undefined : toRepositorySummary(row);
  }

  /** Foreign keys cascade to blob links, manifests, their references and tags. */
  async repositoryDelete(name: string): Promise<boolean> {
    await this.enter(name);
    const result = await this.db.query('DELETE FROM repositories WHERE name = $1', [name]);
    return (result.rowCount ?? 0) > 0;
  }

  async linkGet(repository: string, digest: Digest): Promise<{ size: number } | undefined> {
    await this.enter(repository);
    const result = await this.db.query<{ size: string }>(
      `SELECT l.size FROM blob_links l JOIN repositories r ON r.id = l.repository_id
       WHERE r.name = $1 AND l.digest = $2`,
      [repository, digest],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : { size: Number(row.size) };
  }

  async link(repository: string, digest: Digest, size: number): Promise<void> {
    await this.enter(repository);
    const repositoryId = await this.ensureRepository(repository);
    await this.db.query(
      `INSERT INTO blob_links (repository_id, digest, size, created_at) VALUES ($1, $2, $3, now())
       ON CONFLICT DO NOTHING`,
      [repositoryId, digest, size],
    );
  }

  async unlink(repository: string, digest: Digest): Promise<boolean> {
    await this.enter(repository);
    const result = await this.db.query(
      `DELETE FROM blob_links WHERE repository_id = (SELECT id FROM repositories WHERE name = $1)
       AND digest = $2`,
      [repository, digest],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Digests not linked to the repository, in the order given, in one round trip. */
  async missingLinks(repository: string, digests: Digest[]): Promise<Digest[]> {
    return this.missing(repository, digests, 'blob_links');
  }

  async repositoriesHolding(digest: Digest, limit: number): Promise<string[]> {
    const result = await this.db.query<{ name: string }>(
      `SELECT r.name FROM blob_links l JOIN repositories r ON r.id = l.repository_id
       WHERE l.digest = $1 LIMIT $2`,
      [digest, limit],
    );
    return result.rows.map((row) => row.name);
  }

  async manifestGet(repository: string, digest: Digest): Promise<ManifestRecord | undefined> {
    await this.enter(repository);
    const result = await this.db.query<ManifestRow>(
      `SELECT ${manifestColumns} FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE r.name = $1 AND m.digest = $2`,
      [repository, digest],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : toManifestRecord(row);
  }

  async manifestPut(manifest: ManifestWrite): Promise<void> {
    await this.enter(manifest.repository);
    const repositoryId = await this.ensureRepository(manifest.repository);
    const inserted = await this.db.query(
      `INSERT INTO manifests (repository_id, digest, media_type, size, artifact_type, subject, annotations,
         created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [
        repositoryId,
        manifest.digest,
        manifest.mediaType,
        manifest.size,
        manifest.artifactType ?? null,
        manifest.subject ?? null,
        manifest.annotations === undefined ? null : JSON.stringify(manifest.annotations),
        manifest.createdAt,
      ],
    );
    // Already there: the same digest is the same content, so its references are already recorded.
    if ((inserted.rowCount ?? 0) === 0) return;
    const targets = [...manifest.blobs, ...manifest.children];
    if (targets.length === 0) return;
    const kinds = [...manifest.blobs.map(() => 'blob'), ...manifest.children.map(() => 'manifest')];
    await this.db.query(
      `INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind)
       SELECT $1, $2, child, kind FROM unnest($3::text[], $4::text[]) AS x (child, kind)
       ON CONFLICT DO NOTHING`,
      [repositoryId, manifest.digest, targets, kinds],
    );
  }

  async manifestDelete(repository: string, digest: Digest): Promise<boolean> {
    await this.enter(repository);
    const result = await this.db.query(
      `DELETE FROM manifests WHERE repository_id = (SELECT id FROM repositories WHERE name = $1)
       AND digest = $2`,
      [repository, digest],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async missingManifests(repository: string, digests: Digest[]): Promise<Digest[]> {
    return this.missing(repository, digests, 'manifests');
  }

  async referrers(repository: string, subject: Digest, artifactType?: string): Promise<ManifestRecord[]> {
    await this.enter(repository);
    const result = await this.db.query<ManifestRow>(
      `SELECT ${manifestColumns} FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE r.name = $1 AND m.subject = $2 AND ($3::text IS NULL OR m.artifact_type = $3)
       ORDER BY m.created_at, m.digest`,
      [repository, subject, artifactType ?? null],
    );
    return result.rows.map(toManifestRecord);
  }

  async manifestList(repository: string, query: OffsetQuery): Promise<Counted<ManifestRecord>> {
    await this.enter(repository);
    const rows = await this.db.query<ManifestRow>(
      `SELECT ${manifestColumns} FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE r.name = $1 ORDER BY m.created_at DESC, m.digest LIMIT $2 OFFSET $3`,
      [repository, query.limit, query.offset],
    );
    const total = await this.db.query<{ total: string }>(
      `SELECT count(*) AS total FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE r.name = $1`,
      [repository],
    );
    return { items: rows.rows.map(toManifestRecord), total: Number(total.rows[0]?.total ?? 0) };
  }

  async manifestChildren(repository: string, digest: Digest): Promise<Digest[]> {
    await this.enter(repository);
    const result = await this.db.query<{ digest: string }>(
      `SELECT x.child_digest AS digest FROM manifest_references x JOIN repositories r ON r.id = x.repository_id
       WHERE r.name = $1 AND x.manifest_digest = $2 AND x.kind = 'manifest' ORDER BY x.child_digest`,
      [repository, digest],
    );
    return result.rows.map((row) => row.digest as Digest);
  }

  async manifestParents(repository: string, digest: Digest): Promise<Digest[]> {
    await this.enter(repository);
    const result = await this.db.query<{ digest: string }>(
      `SELECT x.manifest_digest AS digest FROM manifest_references x JOIN repositories r ON r.id = x.repository_id
       WHERE r.name = $1 AND x.child_digest = $2 AND x.kind = 'manifest' ORDER BY x.manifest_digest`,
      [repository, digest],
    );
    return result.rows.map((row) => row.digest as Digest);
  }

  /**
   * One statement for the whole batch, so one transaction: pulls are folded per manifest (latest time,
   * count), then the manifest rows are locked in key order and updated. It takes no repository lock: a
   * batch spans repositories, and taking several advisory locks here could deadlock with a transaction
   * taking them in another order; the row locks alone keep the increments whole, and the fixed order
   * keeps two batches from deadlocking each other. Pulls of manifests that are gone are dropped.
   */
  async recordPulls(pulls: { repository: string; digest: Digest; at: Date }[]): Promise<void> {
    if (pulls.length === 0) return;
    await this.db.query(
      `WITH pulls AS (
         SELECT x.repository, x.digest, max(x.at) AS at, count(*) AS n
         FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS x (repository, digest, at)
         GROUP BY x.repository, x.digest
       ), targets AS MATERIALIZED (
         SELECT m.repository_id, m.digest, p.at, p.n
         FROM pulls p JOIN repositories r ON r.name = p.repository
           JOIN manifests m ON m.repository_id = r.id AND m.digest = p.digest
         ORDER BY m.repository_id, m.digest
         FOR UPDATE OF m
       )
       UPDATE manifests m SET pulled_at = GREATEST(m.pulled_at, t.at), pull_count = m.pull_count + t.n
       FROM targets t WHERE m.repository_id = t.repository_id AND m.digest = t.digest`,
      [pulls.map((p) => p.repository), pulls.map((p) => p.digest), pulls.map((p) => p.at)],
    );
  }

  async tagResolve(repository: string, tag: string): Promise<Digest | undefined> {
    await this.enter(repository);
    const result = await this.db.query<{ manifest_digest: string }>(
      `SELECT t.manifest_digest FROM tags t JOIN repositories r ON r.id = t.repository_id
       WHERE r.name = $1 AND t.name = $2`,
      [repository, tag],
    );
    return result.rows[0]?.manifest_digest as Digest | undefined;
  }

  /** Only ever runs in a transaction (see the store), where the repository lock makes read-then-write safe. */
  async tagSet(repository: string, tag: string, digest: Digest, at: Date): Promise<Digest | undefined> {
    const previous = await this.tagResolve(repository, tag);
    const repositoryId = await this.ensureRepository(repository);
    await this.db.query(
      `INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (repository_id, name)
       DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at`,
      [repositoryId, tag, digest, at],
    );
    return previous;
  }

  async tagDelete(repository: string, tag: string): Promise<boolean> {
    await this.enter(repository);
    const result = await this.db.query(
      'DELETE FROM tags WHERE repository_id = (SELECT id FROM repositories WHERE name = $1) AND name = $2',
      [repository, tag],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async tagList(repository: string, page: Page): Promise<string[]> {
    await this.enter(repository);
    const result = await this.db.query<{ name: string }>(
      `SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id
       WHERE r.name = $1 AND t.name > $2 ORDER BY t.name LIMIT $3`,
      [repository, page.last ?? '', page.limit],
    );
    return result.rows.map((row) => row.name);
  }

  async tagsFor(repository: string, digest: Digest): Promise<string[]> {
    await this.enter(repository);
    const result = await this.db.query<{ name: string }>(
      `SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id
       WHERE r.name = $1 AND t.manifest_digest = $2 ORDER BY t.name`,
      [repository, digest],
    );
    return result.rows.map((row) => row.name);
  }

  async tagsDeleteFor(repository: string, digest: Digest): Promise<number> {
    await this.enter(repository);
    const result = await this.db.query(
      `DELETE FROM tags WHERE repository_id = (SELECT id FROM repositories WHERE name = $1)
       AND manifest_digest = $2`,
      [repository, digest],
    );
    return result.rowCount ?? 0;
  }

  async uploadCreate(session: UploadSession): Promise<void> {
    await this.db.query('INSERT INTO upload_sessions (id, repository, started_at) VALUES ($1, $2, $3)', [
      session.id,
      session.repository,
      session.startedAt,
    ]);
  }

  async uploadGet(id: string): Promise<UploadSession | undefined> {
    const result = await this.db.query<UploadRow>(
      'SELECT id, repository, started_at FROM upload_sessions WHERE id = $1',
      [id],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : toUploadSession(row);
  }

  async uploadDelete(id: string): Promise<boolean> {
    const result = await this.db.query('DELETE FROM upload_sessions WHERE id = $1', [id]);
    return (result.rowCount ?? 0) > 0;
  }

  async uploadsStartedBefore(time: Date, limit: number): Promise<UploadSession[]> {
    const result = await this.db.query<UploadRow>(
      `SELECT id, repository, started_at FROM upload_sessions WHERE started_at < $1
       ORDER BY started_at LIMIT $2`,
      [time, limit],
    );
    return result.rows.map(toUploadSession);
  }

  private async missing(
    repository: string,
    digests: Digest[],
    table: 'blob_links' | 'manifests', // a fixed identifier, never user input
  ): Promise<Digest[]> {
    if (digests.length === 0) return [];
    await this.enter(repository);
    const result = await this.db.query<{ digest: string }>(
      `SELECT x.digest FROM unnest($2::text[]) WITH ORDINALITY AS x (digest, position)
       WHERE NOT EXISTS (
         SELECT 1 FROM ${table} t JOIN repositories r ON r.id = t.repository_id
         WHERE r.name = $1 AND t.digest = x.digest
       )
       ORDER BY x.position`,
      [repository, digests],
    );
    return result.rows.map((row) => row.digest as Digest);
  }
}

/** The port over one Queryable. */
export function scopeOver(
  q: PostgresQueries,
  i: PostgresIdentityQueries,
): Omit<MetadataScope, 'retention' | 'immutableRules' | 'jobs' | 'gc' | 'quotas'> {
  return {
    repositories: {
      exists: q.repositoryExists.bind(q),
      list: q.repositoryList.bind(q),
      listInProject: q.repositoryListInProject.bind(q),
      get: q.repositoryGet.bind(q),
      delete: q.repositoryDelete.bind(q),
    },
    blobLinks: {
      get: q.linkGet.bind(q),
      link: q.link.bind(q),
      unlink: q.unlink.bind(q),
      missing: q.missingLinks.bind(q),
      repositoriesHolding: q.repositoriesHolding.bind(q),
    },
    manifests: {
      get: q.manifestGet.bind(q),
      put: q.manifestPut.bind(q),
      delete: q.manifestDelete.bind(q),
      missing: q.missingManifests.bind(q),
      referrers: q.referrers.bind(q),
      list: q.manifestList.bind(q),
      children: q.manifestChildren.bind(q),
      parents: q.manifestParents.bind(q),
      recordPulls: q.recordPulls.bind(q),
    },
    tags: {
      resolve: q.tagResolve.bind(q),
      set: q.tagSet.bind(q),
      delete: q.tagDelete.bind(q),
      list: q.tagList.bind(q),
      listFor: q.tagsFor.bind(q),
      deleteFor: q.tagsDeleteFor.bind(q),
    },
    uploads: {
      create: q.uploadCreate.bind(q),
      get: q.uploadGet.bind(q),
      delete: q.uploadDelete.bind(q),
      listStartedBefore: q.uploadsStartedBefore.bind(q),
    },
    users: {
      create: i.userCreate.bind(i),
      get: i.userGet.bind(i),
      getByName: i.userGetByName.bind(i),
      passwordHash: i.userPasswordHash.bind(i),
      list: i.userList.bind(i),
      update: i.userUpdate.bind(i),
      delete: i.userDelete.bind(i),
    },
    projects: {
      create: i.projectCreate.bind(i),
      get: i.projectGet.bind(i),
      getByName: i.projectGetByName.bind(i),
      list: i.projectList.bind(i),
      update: i.projectUpdate.bind(i),
      delete: i.projectDelete.bind(i),
    },
    members: {
      list: i.memberList.bind(i),
      get: i.memberGet.bind(i),
      roleOf: i.memberRoleOf.bind(i),
      add: i.memberAdd.bind(i),
      update: i.memberUpdate.bind(i),
      remove: i.memberRemove.bind(i),
    },
    robots: {
      create: i.robotCreate.bind(i),
      get: i.robotGet.bind(i),
      getByName: i.robotGetByName.bind(i),
      secretHash: i.robotSecretHash.bind(i),
      list: i.robotList.bind(i),
      update: i.robotUpdate.bind(i),
      delete: i.robotDelete.bind(i),
    },
    settings: {
      get: i.settingGet.bind(i),
      putIfAbsent: i.settingPutIfAbsent.bind(i),
      put: i.settingPut.bind(i),
    },
  };
}

function toManifestRecord(row: ManifestRow): ManifestRecord {
  return {
    repository: row.name,
    digest: row.digest as Digest,
    mediaType: row.media_type,
    size: Number(row.size),
    createdAt: row.created_at,
    ...(row.pulled_at !== null && { pulledAt: row.pulled_at }),
    ...(row.artifact_type !== null && { artifactType: row.artifact_type }),
    ...(row.subject !== null && { subject: row.subject as Digest }),
    ...(row.annotations !== null && { annotations: row.annotations }),
  };
}

function toRepositorySummary(row: SummaryRow): RepositorySummary {
  return {
    name: row.name,
    artifactCount: Number(row.artifact_count),
    pullCount: Number(row.pull_count),
    createdAt: row.created_at,
    updatedAt: row.last_push ?? row.created_at,
  };
}

function toUploadSession(row: UploadRow): UploadSession {
  return { id: row.id, repository: row.repository, startedAt: row.started_at };
}
