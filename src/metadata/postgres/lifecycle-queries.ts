import type { Digest } from '../../core/oci/digest.js';
import type {
  Counted,
  JobRun,
  JobSchedule,
  JobStatus,
  JobTrigger,
  OffsetQuery,
  ScheduleType,
  UntaggedManifest,
} from '../../core/ports.js';
import type { Queryable } from './queries.js';

/** Same key as PostgresQueries' repository locks, so GC's writes queue with pushes on the repository. */
const REPOSITORY_LOCK_CLASS = 0x62657274; // "bert"
/** Per-digest locks: a pin and a tombstone of one digest never interleave. */
const DIGEST_LOCK_CLASS = 0x62646967; // "bdig"
/** Per-project locks taken by the quota check. */
const QUOTA_LOCK_CLASS = 0x62717561; // "bqua"

interface RunRow {
  id: string;
  kind: string;
  status: string;
  trigger: string;
  parameters: Record<string, unknown>;
  result: Record<string, unknown> | null;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  updated_at: Date;
}

const runColumns =
  'id, kind, status, trigger, parameters, result, created_at, started_at, ended_at, updated_at';

/** Anything that keeps digest $1 alive: a link, a manifest, a manifest's reference, a live pin ($2). */
const referenced = `(EXISTS (SELECT 1 FROM blob_links WHERE digest = x.digest)
  OR EXISTS (SELECT 1 FROM manifests WHERE digest = x.digest)
  OR EXISTS (SELECT 1 FROM manifest_references WHERE child_digest = x.digest)
  OR EXISTS (SELECT 1 FROM gc_pins WHERE digest = x.digest AND created_at >= $2))`;

const staleLink = `l.created_at < $1
  AND NOT EXISTS (SELECT 1 FROM manifest_references x WHERE x.repository_id = l.repository_id AND x.child_digest = l.digest)
  AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = l.repository_id AND m.digest = l.digest)`;

/**
 * Jobs, garbage collection and quotas on PostgreSQL. Methods that must not interleave with pushes take
 * transaction-scoped advisory locks, so they are called inside a transaction (the store sees to it).
 */
export class PostgresLifecycleQueries {
  constructor(
    private readonly db: Queryable,
    private readonly inTransaction: boolean,
  ) {}

  private async lockDigest(digest: Digest): Promise<void> {
    if (this.inTransaction)
      await this.db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [DIGEST_LOCK_CLASS, digest]);
  }

  private async lockRepository(repository: string): Promise<void> {
    if (this.inTransaction)
      await this.db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        REPOSITORY_LOCK_CLASS,
        repository,
      ]);
  }

  async createRun(run: {
    kind: string;
    trigger: JobTrigger;
    status: JobStatus;
    parameters: Record<string, unknown>;
    at: Date;
  }): Promise<JobRun> {
    const result = await this.db.query<RunRow>(
      `INSERT INTO job_runs (kind, status, trigger, parameters, created_at, started_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $2 = 'Running' THEN $5::timestamptz END, $5) RETURNING ${runColumns}`,
      [run.kind, run.status, run.trigger, JSON.stringify(run.parameters), run.at],
    );
    return toRun(result.rows[0]!);
  }

  async getRun(id: number): Promise<JobRun | undefined> {
    const result = await this.db.query<RunRow>(`SELECT ${runColumns} FROM job_runs WHERE id = $1`, [id]);
    return result.rows[0] === undefined ? undefined : toRun(result.rows[0]);
  }

  async listRuns(kind: string, query: OffsetQuery): Promise<Counted<JobRun>> {
    const rows = await this.db.query<RunRow>(
      `SELECT ${runColumns} FROM job_runs WHERE kind = $1 ORDER BY id DESC LIMIT $2 OFFSET $3`,
      [kind, query.limit, query.offset],
    );
    const total = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM job_runs WHERE kind = $1', [
      kind,
    ]);
    return { items: rows.rows.map(toRun), total: Number(total.rows[0]?.n ?? 0) };
  }

  async updateRun(
    id: number,
    patch: { status: JobStatus; result?: Record<string, unknown>; startedAt?: Date; endedAt?: Date },
    at: Date,
  ): Promise<boolean> {
    const result = await this.db.query(
      `UPDATE job_runs SET status = $2, result = coalesce($3::json, result), started_at = coalesce($4, started_at),
         ended_at = coalesce($5, ended_at), updated_at = $6
       WHERE id = $1 AND status NOT IN ('Success', 'Error', 'Stopped', 'Interrupted')`,
      [
        id,
        patch.status,
        patch.result === undefined ? null : JSON.stringify(patch.result),
        patch.startedAt ?? null,
        patch.endedAt ?? null,
        at,
      ],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async appendLog(id: number, text: string): Promise<void> {
    await this.db.query('UPDATE job_runs SET log = log || $2 WHERE id = $1', [id, text]);
  }

  async log(id: number): Promise<string | undefined> {
    const result = await this.db.query<{ log: string }>('SELECT log FROM job_runs WHERE id = $1', [id]);
    return result.rows[0]?.log;
  }

  async interruptRuns(kind: string, at: Date): Promise<number> {
    const result = await this.db.query(
      `UPDATE job_runs SET status = 'Interrupted', ended_at = $2, updated_at = $2
       WHERE kind = $1 AND status IN ('Pending', 'Running')`,
      [kind, at],
    );
    return result.rowCount ?? 0;
  }

  async getSchedule(kind: string): Promise<JobSchedule | undefined> {
    const result = await this.db.query<{
      kind: string;
      type: string;
      cron: string | null;
      parameters: Record<string, unknown>;
      updated_at: Date;
    }>('SELECT kind, type, cron, parameters, updated_at FROM job_schedules WHERE kind = $1', [kind]);
    const row = result.rows[0];
    if (row === undefined) return undefined;
    return {
      kind: row.kind,
      type: row.type as ScheduleType,
      ...(row.cron !== null && { cron: row.cron }),
      parameters: row.parameters,
      updatedAt: row.updated_at,
    };
  }

  async putSchedule(schedule: JobSchedule): Promise<void> {
    await this.db.query(
      `INSERT INTO job_schedules (kind, type, cron, parameters, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (kind) DO UPDATE SET type = EXCLUDED.type, cron = EXCLUDED.cron,
         parameters = EXCLUDED.parameters, updated_at = EXCLUDED.updated_at`,
      [
        schedule.kind,
        schedule.type,
        schedule.cron ?? null,
        JSON.stringify(schedule.parameters),
        schedule.updatedAt,
      ],
    );
  }

  async claimFire(kind: string, fireAt: Date): Promise<boolean> {
    const result = await this.db.query(
      `UPDATE job_schedules SET last_fired_at = $2 WHERE kind = $1 AND (last_fired_at IS NULL OR last_fired_at < $2)`,
      [kind, fireAt],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async pin(digest: Digest, holder: string, at: Date, liveSince: Date): Promise<boolean> {
    await this.lockDigest(digest);
    const tomb = await this.db.query('SELECT 1 FROM gc_tombstones WHERE digest = $1 AND created_at >= $2', [
      digest,
      liveSince,
    ]);
    if (tomb.rows.length > 0) return false;
    await this.db.query(
      'INSERT INTO gc_pins (holder, digest, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [holder, digest, at],
    );
    return true;
  }

  async unpin(holder: string): Promise<void> {
    await this.db.query('DELETE FROM gc_pins WHERE holder = $1', [holder]);
  }

  async unreferenced(digests: Digest[], pinnedSince: Date): Promise<Digest[]> {
    if (digests.length === 0) return [];
    const result = await this.db.query<{ digest: string }>(
      `SELECT x.digest FROM unnest($1::text[]) WITH ORDINALITY AS x (digest, position)
       WHERE NOT ${referenced} ORDER BY x.position`,
      [digests, pinnedSince],
    );
    return result.rows.map((row) => row.digest as Digest);
  }

  /** Locks each digest (in sorted order, so two callers cannot deadlock), re-checks, tombstones. */
  async condemn(digests: Digest[], pinnedSince: Date, at: Date): Promise<Digest[]> {
    const sorted = [...new Set(digests)].sort();
    for (const digest of sorted) await this.lockDigest(digest);
    const condemned = await this.unreferenced(sorted, pinnedSince);
    if (condemned.length > 0)
      await this.db.query(
        `INSERT INTO gc_tombstones (digest, created_at) SELECT d, $2 FROM unnest($1::text[]) AS d
         ON CONFLICT (digest) DO UPDATE SET created_at = EXCLUDED.created_at`,
        [condemned, at],
      );
    return condemned;
  }

  async release(digests: Digest[]): Promise<void> {
    await this.db.query('DELETE FROM gc_tombstones WHERE digest = ANY($1::text[])', [digests]);
  }

  async clearTombstones(before: Date): Promise<number> {
    return (await this.db.query('DELETE FROM gc_tombstones WHERE created_at < $1', [before])).rowCount ?? 0;
  }

  async purgePins(before: Date): Promise<number> {
    return (await this.db.query('DELETE FROM gc_pins WHERE created_at < $1', [before])).rowCount ?? 0;
  }

  async staleLinks(
    before: Date,
    limit: number,
  ): Promise<{ repository: string; digest: Digest; size: number }[]> {
    const result = await this.db.query<{ repository: string; digest: string; size: string }>(
      `SELECT r.name AS repository, l.digest, l.size FROM blob_links l JOIN repositories r ON r.id = l.repository_id
       WHERE ${staleLink} ORDER BY l.repository_id, l.digest LIMIT $2`,
      [before, limit],
    );
    return result.rows.map((r) => ({
      repository: r.repository,
      digest: r.digest as Digest,
      size: Number(r.size),
    }));
  }

  async unlinkStale(repository: string, digest: Digest, before: Date): Promise<boolean> {
    await this.lockRepository(repository);
    const result = await this.db.query(
      `DELETE FROM blob_links l WHERE l.repository_id = (SELECT id FROM repositories WHERE name = $2)
       AND l.digest = $3 AND ${staleLink}`,
      [before, repository, digest],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async untagged(before: Date): Promise<UntaggedManifest[]> {
    const result = await this.db.query<{
      repository: string;
      digest: string;
      size: string;
      subject: string | null;
      subject_present: boolean;
      parents: string[] | null;
    }>(
      `SELECT r.name AS repository, m.digest, m.size, m.subject,
         (m.subject IS NOT NULL AND EXISTS (SELECT 1 FROM manifests s
            WHERE s.repository_id = m.repository_id AND s.digest = m.subject)) AS subject_present,
         (SELECT array_agg(x.manifest_digest) FROM manifest_references x
            WHERE x.repository_id = m.repository_id AND x.child_digest = m.digest AND x.kind = 'manifest') AS parents
       FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE m.created_at < $1 AND NOT EXISTS (SELECT 1 FROM tags t
         WHERE t.repository_id = m.repository_id AND t.manifest_digest = m.digest)
       ORDER BY r.name, m.digest`,
      [before],
    );
    return result.rows.map((row) => ({
      repository: row.repository,
      digest: row.digest as Digest,
      size: Number(row.size),
      ...(row.subject !== null && { subject: row.subject as Digest }),
      subjectPresent: row.subject_present,
      parents: (row.parents ?? []) as Digest[],
    }));
  }

  async deleteUntagged(repository: string, digest: Digest, before: Date): Promise<boolean> {
    await this.lockRepository(repository);
    const result = await this.db.query<{ repository_id: string }>(
      `DELETE FROM manifests m WHERE m.repository_id = (SELECT id FROM repositories WHERE name = $1)
         AND m.digest = $2 AND m.created_at < $3
         AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.manifest_digest = m.digest)
         AND NOT EXISTS (SELECT 1 FROM manifest_references x WHERE x.repository_id = m.repository_id
           AND x.child_digest = m.digest AND x.kind = 'manifest')
         AND NOT (m.subject IS NOT NULL AND EXISTS (SELECT 1 FROM manifests s
           WHERE s.repository_id = m.repository_id AND s.digest = m.subject))
       RETURNING m.repository_id`,
      [repository, digest, before],
    );
    const row = result.rows[0];
    if (row === undefined) return false;
    await this.db.query('DELETE FROM blob_links WHERE repository_id = $1 AND digest = $2', [
      row.repository_id,
      digest,
    ]);
    return true;
  }

  /**
   * Computed from the links (distinct digests of the project's repositories). Inside a transaction it
   * first takes the project's advisory lock, held to the end: two manifest commits into one project
   * check their quota one after the other, and the second sees the first's links.
   */
  async usage(project: string): Promise<number> {
    if (this.inTransaction)
      await this.db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [QUOTA_LOCK_CLASS, project]);
    const result = await this.db.query<{ used: string | null }>(
      `SELECT sum(size) AS used FROM (SELECT max(l.size) AS size FROM blob_links l
         JOIN repositories r ON r.id = l.repository_id WHERE r.name >= $1 AND r.name < $2 GROUP BY l.digest) b`,
      [`${project}/`, `${project}0`],
    );
    return Number(result.rows[0]?.used ?? 0);
  }

  /** Usage is computed on every read here, so there is never anything to repair. */
  recount(): Promise<{ project: string; recorded: number; actual: number }[]> {
    return Promise.resolve([]);
  }
}

function toRun(row: RunRow): JobRun {
  return {
    id: Number(row.id),
    kind: row.kind,
    status: row.status as JobStatus,
    trigger: row.trigger as JobTrigger,
    parameters: row.parameters,
    ...(row.result !== null && { result: row.result }),
    createdAt: row.created_at,
    ...(row.started_at !== null && { startedAt: row.started_at }),
    ...(row.ended_at !== null && { endedAt: row.ended_at }),
    updatedAt: row.updated_at,
  };
}
