import type { Database, Statement } from 'better-sqlite3';
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

interface RunRow {
  id: number;
  kind: string;
  status: string;
  trigger: string;
  parameters: string;
  result: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  updated_at: number;
}

const endedStatuses = `('Success', 'Error', 'Stopped', 'Interrupted')`;

/** Anything that keeps a digest alive: a link, a manifest, a manifest's reference, or a live pin. */
const referenced = `(EXISTS (SELECT 1 FROM blob_links WHERE digest = @digest)
  OR EXISTS (SELECT 1 FROM manifests WHERE digest = @digest)
  OR EXISTS (SELECT 1 FROM manifest_references WHERE child_digest = @digest)
  OR EXISTS (SELECT 1 FROM gc_pins WHERE digest = @digest AND created_at >= @since))`;

/** A link no manifest of its repository references or is. */
const staleLink = `l.created_at < @before
  AND NOT EXISTS (SELECT 1 FROM manifest_references x WHERE x.repository_id = l.repository_id AND x.child_digest = l.digest)
  AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = l.repository_id AND m.digest = l.digest)`;

/** The SQL of jobs, garbage collection and quotas on SQLite (synchronous, as better-sqlite3 is). */
export class SqliteLifecycleQueries {
  private readonly s: Record<string, Statement>;

  constructor(private readonly db: Database) {
    const prepare = (sql: string) => db.prepare(sql);
    this.s = {
      runInsert: prepare(
        `INSERT INTO job_runs (kind, status, trigger, parameters, created_at, started_at, updated_at)
         VALUES (@kind, @status, @trigger, @parameters, @at, CASE WHEN @status = 'Running' THEN @at END, @at)
         RETURNING *`,
      ),
      runGet: prepare('SELECT * FROM job_runs WHERE id = ?'),
      runList: prepare('SELECT * FROM job_runs WHERE kind = ? ORDER BY id DESC LIMIT ? OFFSET ?'),
      runCount: prepare('SELECT count(*) FROM job_runs WHERE kind = ?'),
      runUpdate: prepare(
        `UPDATE job_runs SET status = @status, result = coalesce(@result, result),
           started_at = coalesce(@startedAt, started_at), ended_at = coalesce(@endedAt, ended_at), updated_at = @at
         WHERE id = @id AND status NOT IN ${endedStatuses}`,
      ),
      runLogAppend: prepare('UPDATE job_runs SET log = log || ? WHERE id = ?'),
      runLog: prepare('SELECT log FROM job_runs WHERE id = ?'),
      runInterrupt: prepare(
        `UPDATE job_runs SET status = 'Interrupted', ended_at = @at, updated_at = @at
         WHERE kind = @kind AND status IN ('Pending', 'Running')`,
      ),
      scheduleGet: prepare('SELECT * FROM job_schedules WHERE kind = ?'),
      schedulePut: prepare(
        `INSERT INTO job_schedules (kind, type, cron, parameters, updated_at) VALUES (@kind, @type, @cron, @parameters, @at)
         ON CONFLICT (kind) DO UPDATE SET type = excluded.type, cron = excluded.cron,
           parameters = excluded.parameters, updated_at = excluded.updated_at`,
      ),
      scheduleClaim: prepare(
        `UPDATE job_schedules SET last_fired_at = @at
         WHERE kind = @kind AND (last_fired_at IS NULL OR last_fired_at < @at)`,
      ),
      tombstoneLive: prepare('SELECT 1 FROM gc_tombstones WHERE digest = ? AND created_at >= ?'),
      pinInsert: prepare(
        'INSERT INTO gc_pins (holder, digest, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      pinDelete: prepare('DELETE FROM gc_pins WHERE holder = ?'),
      pinPurge: prepare('DELETE FROM gc_pins WHERE created_at < ?'),
      isReferenced: prepare(`SELECT ${referenced}`),
      tombstoneInsert: prepare(
        'INSERT INTO gc_tombstones (digest, created_at) VALUES (?, ?) ON CONFLICT (digest) DO UPDATE SET created_at = excluded.created_at',
      ),
      tombstoneDelete: prepare('DELETE FROM gc_tombstones WHERE digest = ?'),
      tombstonePurge: prepare('DELETE FROM gc_tombstones WHERE created_at < ?'),
      staleLinks: prepare(
        `SELECT r.name AS repository, l.digest, l.size FROM blob_links l JOIN repositories r ON r.id = l.repository_id
         WHERE ${staleLink} ORDER BY l.repository_id, l.digest LIMIT @limit`,
      ),
      unlinkStale: prepare(
        `DELETE FROM blob_links AS l WHERE l.repository_id = (SELECT id FROM repositories WHERE name = @repository)
         AND l.digest = @digest AND ${staleLink}`,
      ),
      untagged: prepare(
        `SELECT r.name AS repository, m.digest, m.size, m.subject,
           (m.subject IS NOT NULL AND EXISTS (SELECT 1 FROM manifests s
              WHERE s.repository_id = m.repository_id AND s.digest = m.subject)) AS subject_present,
           (SELECT group_concat(x.manifest_digest) FROM manifest_references x
              WHERE x.repository_id = m.repository_id AND x.child_digest = m.digest AND x.kind = 'manifest') AS parents
         FROM manifests m JOIN repositories r ON r.id = m.repository_id
         WHERE m.created_at < ? AND NOT EXISTS (SELECT 1 FROM tags t
           WHERE t.repository_id = m.repository_id AND t.manifest_digest = m.digest)
         ORDER BY r.name, m.digest`,
      ),
      deleteUntagged: prepare(
        `DELETE FROM manifests AS m WHERE m.repository_id = @id AND m.digest = @digest AND m.created_at < @before
         AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.manifest_digest = m.digest)
         AND NOT EXISTS (SELECT 1 FROM manifest_references x WHERE x.repository_id = m.repository_id
           AND x.child_digest = m.digest AND x.kind = 'manifest')
         AND NOT (m.subject IS NOT NULL AND EXISTS (SELECT 1 FROM manifests s
           WHERE s.repository_id = m.repository_id AND s.digest = m.subject))`,
      ),
      repoId: prepare('SELECT id FROM repositories WHERE name = ?'),
      linkDelete: prepare('DELETE FROM blob_links WHERE repository_id = ? AND digest = ?'),
      usage: prepare('SELECT used FROM project_usage WHERE project = ?'),
      usageAll: prepare('SELECT project, used FROM project_usage'),
      actualAll: prepare(
        `SELECT project, sum(size) AS used FROM (
           SELECT substr(r.name, 1, instr(r.name, '/') - 1) AS project, l.digest, max(l.size) AS size
           FROM blob_links l JOIN repositories r ON r.id = l.repository_id
           WHERE instr(r.name, '/') > 0 GROUP BY 1, 2) GROUP BY project`,
      ),
    };
  }

  createRun(run: {
    kind: string;
    trigger: JobTrigger;
    status: JobStatus;
    parameters: Record<string, unknown>;
    at: Date;
  }): JobRun {
    const row = this.s.runInsert!.get({
      kind: run.kind,
      status: run.status,
      trigger: run.trigger,
      parameters: JSON.stringify(run.parameters),
      at: run.at.getTime(),
    }) as RunRow;
    return toRun(row);
  }

  getRun(id: number): JobRun | undefined {
    const row = this.s.runGet!.get(id) as RunRow | undefined;
    return row === undefined ? undefined : toRun(row);
  }

  listRuns(kind: string, query: OffsetQuery): Counted<JobRun> {
    const rows = this.s.runList!.all(kind, query.limit, query.offset) as RunRow[];
    return { items: rows.map(toRun), total: this.s.runCount!.pluck().get(kind) as number };
  }

  updateRun(
    id: number,
    patch: { status: JobStatus; result?: Record<string, unknown>; startedAt?: Date; endedAt?: Date },
    at: Date,
  ): boolean {
    return (
      this.s.runUpdate!.run({
        id,
        status: patch.status,
        result: patch.result === undefined ? null : JSON.stringify(patch.result),
        startedAt: patch.startedAt?.getTime() ?? null,
        endedAt: patch.endedAt?.getTime() ?? null,
        at: at.getTime(),
      }).changes > 0
    );
  }

  appendLog(id: number, text: string): void {
    this.s.runLogAppend!.run(text, id);
  }

  log(id: number): string | undefined {
    return this.s.runLog!.pluck().get(id) as string | undefined;
  }

  interruptRuns(kind: string, at: Date): number {
    return this.s.runInterrupt!.run({ kind, at: at.getTime() }).changes;
  }

  getSchedule(kind: string): JobSchedule | undefined {
    const row = this.s.scheduleGet!.get(kind) as
      { kind: string; type: string; cron: string | null; parameters: string; updated_at: number } | undefined;
    if (row === undefined) return undefined;
    return {
      kind: row.kind,
      type: row.type as ScheduleType,
      ...(row.cron !== null && { cron: row.cron }),
      parameters: JSON.parse(row.parameters) as Record<string, unknown>,
      updatedAt: new Date(row.updated_at),
    };
  }

  putSchedule(schedule: JobSchedule): void {
    this.s.schedulePut!.run({
      kind: schedule.kind,
      type: schedule.type,
      cron: schedule.cron ?? null,
      parameters: JSON.stringify(schedule.parameters),
      at: schedule.updatedAt.getTime(),
    });
  }

  claimFire(kind: string, fireAt: Date): boolean {
    return this.s.scheduleClaim!.run({ kind, at: fireAt.getTime() }).changes > 0;
  }

  pin(digest: Digest, holder: string, at: Date, liveSince: Date): boolean {
    if (this.s.tombstoneLive!.get(digest, liveSince.getTime()) !== undefined) return false;
    this.s.pinInsert!.run(holder, digest, at.getTime());
    return true;
  }

  unpin(holder: string): void {
    this.s.pinDelete!.run(holder);
  }

  unreferenced(digests: Digest[], pinnedSince: Date): Digest[] {
    const since = pinnedSince.getTime();
    return digests.filter((digest) => this.s.isReferenced!.pluck().get({ digest, since }) === 0);
  }

  condemn(digests: Digest[], pinnedSince: Date, at: Date): Digest[] {
    const condemned = this.unreferenced(digests, pinnedSince);
    for (const digest of condemned) this.s.tombstoneInsert!.run(digest, at.getTime());
    return condemned;
  }

  release(digests: Digest[]): void {
    for (const digest of digests) this.s.tombstoneDelete!.run(digest);
  }

  clearTombstones(before: Date): number {
    return this.s.tombstonePurge!.run(before.getTime()).changes;
  }

  purgePins(before: Date): number {
    return this.s.pinPurge!.run(before.getTime()).changes;
  }

  staleLinks(before: Date, limit: number): { repository: string; digest: Digest; size: number }[] {
    return this.s.staleLinks!.all({ before: before.getTime(), limit }) as {
      repository: string;
      digest: Digest;
      size: number;
    }[];
  }

  unlinkStale(repository: string, digest: Digest, before: Date): boolean {
    return this.s.unlinkStale!.run({ repository, digest, before: before.getTime() }).changes > 0;
  }

  untagged(before: Date): UntaggedManifest[] {
    const rows = this.s.untagged!.all(before.getTime()) as {
      repository: string;
      digest: string;
      size: number;
      subject: string | null;
      subject_present: number;
      parents: string | null;
    }[];
    return rows.map((row) => ({
      repository: row.repository,
      digest: row.digest as Digest,
      size: row.size,
      ...(row.subject !== null && { subject: row.subject as Digest }),
      subjectPresent: row.subject_present === 1,
      parents: row.parents === null ? [] : (row.parents.split(',') as Digest[]),
    }));
  }

  deleteUntagged(repository: string, digest: Digest, before: Date): boolean {
    const repo = this.s.repoId!.get(repository) as { id: number } | undefined;
    if (repo === undefined) return false;
    const deleted = this.s.deleteUntagged!.run({ id: repo.id, digest, before: before.getTime() }).changes > 0;
    if (deleted) this.s.linkDelete!.run(repo.id, digest);
    return deleted;
  }

  usage(project: string): number {
    return (this.s.usage!.pluck().get(project) as number | undefined) ?? 0;
  }

  /** Rebuilds project_blobs and project_usage from the links (run inside the writer's transaction). */
  recount(project?: string): { project: string; recorded: number; actual: number }[] {
    const recorded = new Map(
      (this.s.usageAll!.all() as { project: string; used: number }[]).map((r) => [r.project, r.used]),
    );
    const actual = new Map(
      (this.s.actualAll!.all() as { project: string; used: number }[]).map((r) => [r.project, r.used]),
    );
    const wrong: { project: string; recorded: number; actual: number }[] = [];
    for (const name of new Set([...recorded.keys(), ...actual.keys()])) {
      if (project !== undefined && name !== project) continue;
      const r = recorded.get(name) ?? 0;
      const a = actual.get(name) ?? 0;
      if (r !== a) wrong.push({ project: name, recorded: r, actual: a });
    }
    if (wrong.length > 0) {
      this.db.exec(`DELETE FROM project_blobs; DELETE FROM project_usage;
        INSERT INTO project_blobs (project, digest, size, refs)
          SELECT substr(r.name, 1, instr(r.name, '/') - 1), l.digest, max(l.size), count(*)
          FROM blob_links l JOIN repositories r ON r.id = l.repository_id
          WHERE instr(r.name, '/') > 0 GROUP BY 1, 2;
        INSERT INTO project_usage (project, used) SELECT project, sum(size) FROM project_blobs GROUP BY project;`);
    }
    return wrong;
  }
}

function toRun(row: RunRow): JobRun {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status as JobStatus,
    trigger: row.trigger as JobTrigger,
    parameters: JSON.parse(row.parameters) as Record<string, unknown>,
    ...(row.result !== null && { result: JSON.parse(row.result) as Record<string, unknown> }),
    createdAt: new Date(row.created_at),
    ...(row.started_at !== null && { startedAt: new Date(row.started_at) }),
    ...(row.ended_at !== null && { endedAt: new Date(row.ended_at) }),
    updatedAt: new Date(row.updated_at),
  };
}
