import type { Database, Statement } from 'better-sqlite3';
import type { Digest } from '../../core/oci/digest.js';
import type {
  Counted,
  ManifestRecord,
  ManifestWrite,
  OffsetQuery,
  Page,
  RepositorySummary,
  UploadSession,
} from '../../core/ports.js';

interface ManifestRow {
  name: string;
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject: string | null;
  annotations: string | null;
  created_at: number;
  pulled_at: number | null;
}

interface SummaryRow {
  name: string;
  created_at: number;
  artifact_count: number;
  pull_count: number;
  last_push: number | null;
}

/** Per-repository figures: manifests, pulls, latest push. Filtered by the WHERE clause appended to it. */
const summarySelect = `SELECT r.name, r.created_at, count(m.digest) AS artifact_count,
  coalesce(sum(m.pull_count), 0) AS pull_count, max(m.created_at) AS last_push
  FROM repositories r LEFT JOIN manifests m ON m.repository_id = r.id`;

/** Names starting with `<project>/`, as a range in byte order (which the index serves, unlike LIKE). */
const inProject = `r.name >= @low AND r.name < @high AND (@q IS NULL OR instr(r.name, @q) > 0)`;

/**
 * Every SQL statement of the SQLite store, prepared once per connection. Methods are synchronous
 * (better-sqlite3 is); the store wraps them in the async port.
 */
export class SqliteQueries {
  private readonly s: Record<string, Statement>;

  constructor(db: Database) {
    const prepare = (sql: string) => db.prepare(sql);
    this.s = {
      repoId: prepare('SELECT id FROM repositories WHERE name = ?'),
      repoInsert: prepare(
        'INSERT INTO repositories (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
      ),
      repoList: prepare('SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?'),
      repoSummary: prepare(`${summarySelect} WHERE r.name = ? GROUP BY r.id`),
      repoInProject: prepare(
        `${summarySelect} WHERE ${inProject} GROUP BY r.id ORDER BY r.name LIMIT @limit OFFSET @offset`,
      ),
      repoInProjectCount: prepare(`SELECT count(*) FROM repositories r WHERE ${inProject}`),
      repoDelete: prepare('DELETE FROM repositories WHERE name = ?'),
      linkGet: prepare(
        'SELECT l.size FROM blob_links l JOIN repositories r ON r.id = l.repository_id WHERE r.name = ? AND l.digest = ?',
      ),
      linkInsert: prepare(
        'INSERT INTO blob_links (repository_id, digest, size, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      linkDelete: prepare(
        'DELETE FROM blob_links WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND digest = ?',
      ),
      linkHolders: prepare(
        'SELECT r.name FROM blob_links l JOIN repositories r ON r.id = l.repository_id WHERE l.digest = ? LIMIT ?',
      ),
      manifestGet: prepare(
        `SELECT r.name, m.* FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = ? AND m.digest = ?`,
      ),
      manifestInsert: prepare(
        `INSERT INTO manifests (repository_id, digest, media_type, size, artifact_type, subject, annotations, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      referenceInsert: prepare(
        'INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      manifestDelete: prepare(
        'DELETE FROM manifests WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND digest = ?',
      ),
      referrers: prepare(
        `SELECT r.name, m.* FROM manifests m JOIN repositories r ON r.id = m.repository_id
         WHERE r.name = ? AND m.subject = ? ORDER BY m.created_at, m.digest`,
      ),
      manifestList: prepare(
        `SELECT r.name, m.* FROM manifests m JOIN repositories r ON r.id = m.repository_id
         WHERE r.name = ? ORDER BY m.created_at DESC, m.digest LIMIT ? OFFSET ?`,
      ),
      manifestCount: prepare(
        'SELECT count(*) FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = ?',
      ),
      manifestChildren: prepare(
        `SELECT x.child_digest FROM manifest_references x JOIN repositories r ON r.id = x.repository_id
         WHERE r.name = ? AND x.manifest_digest = ? AND x.kind = 'manifest' ORDER BY x.child_digest`,
      ),
      manifestParents: prepare(
        `SELECT x.manifest_digest FROM manifest_references x JOIN repositories r ON r.id = x.repository_id
         WHERE r.name = ? AND x.child_digest = ? AND x.kind = 'manifest' ORDER BY x.manifest_digest`,
      ),
      manifestPulled: prepare(
        `UPDATE manifests SET pulled_at = max(coalesce(pulled_at, @at), @at), pull_count = pull_count + @count
         WHERE repository_id = (SELECT id FROM repositories WHERE name = @repository) AND digest = @digest`,
      ),
      tagResolve: prepare(
        'SELECT t.manifest_digest FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ? AND t.name = ?',
      ),
      tagUpsert: prepare(
        `INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (repository_id, name) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at`,
      ),
      tagDelete: prepare(
        'DELETE FROM tags WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND name = ?',
      ),
      tagList: prepare(
        'SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ? AND t.name > ? ORDER BY t.name LIMIT ?',
      ),
      tagsFor: prepare(
        'SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ? AND t.manifest_digest = ? ORDER BY t.name',
      ),
      tagsDeleteFor: prepare(
        'DELETE FROM tags WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND manifest_digest = ?',
      ),
      uploadInsert: prepare('INSERT INTO upload_sessions (id, repository, started_at) VALUES (?, ?, ?)'),
      uploadGet: prepare('SELECT id, repository, started_at FROM upload_sessions WHERE id = ?'),
      uploadDelete: prepare('DELETE FROM upload_sessions WHERE id = ?'),
      uploadsBefore: prepare(
        'SELECT id, repository, started_at FROM upload_sessions WHERE started_at < ? ORDER BY started_at LIMIT ?',
      ),
    };
  }

  private ensureRepository(name: string): number {
    const found = this.s.repoId!.get(name) as { id: number } | undefined;
    if (found !== undefined) return found.id;
    this.s.repoInsert!.run(name, Date.now());
    return (this.s.repoId!.get(name) as { id: number }).id;
  }

  repositoryExists(name: string): boolean {
    return this.s.repoId!.get(name) !== undefined;
  }

  repositoryList(page: Page): string[] {
    return this.s.repoList!.pluck().all(page.last ?? '', page.limit) as string[];
  }

  repositoryListInProject(project: string, query: OffsetQuery & { q?: string }): Counted<RepositorySummary> {
    const filter = { low: `${project}/`, high: `${project}0`, q: query.q ?? null };
    const rows = this.s.repoInProject!.all({
      ...filter,
      limit: query.limit,
      offset: query.offset,
    }) as SummaryRow[];
    const total = this.s.repoInProjectCount!.pluck().get(filter) as number;
    return { items: rows.map(toRepositorySummary), total };
  }

  repositoryGet(name: string): RepositorySummary | undefined {
    const row = this.s.repoSummary!.get(name) as SummaryRow | undefined;
    return row === undefined ? undefined : toRepositorySummary(row);
  }

  /** Foreign keys cascade to blob links, manifests, their references and tags. */
  repositoryDelete(name: string): boolean {
    return this.s.repoDelete!.run(name).changes > 0;
  }

  linkGet(repository: string, digest: Digest): { size: number } | undefined {
    return this.s.linkGet!.get(repository, digest) as { size: number } | undefined;
  }

  link(repository: string, digest: Digest, size: number): void {
    this.s.linkInsert!.run(this.ensureRepository(repository), digest, size, Date.now());
  }

  unlink(repository: string, digest: Digest): boolean {
    return this.s.linkDelete!.run(repository, digest).changes > 0;
  }

  missingLinks(repository: string, digests: Digest[]): Digest[] {
    return digests.filter((digest) => this.s.linkGet!.get(repository, digest) === undefined);
  }

  repositoriesHolding(digest: Digest, limit: number): string[] {
    return this.s.linkHolders!.pluck().all(digest, limit) as string[];
  }

  manifestGet(repository: string, digest: Digest): ManifestRecord | undefined {
    const row = this.s.manifestGet!.get(repository, digest) as ManifestRow | undefined;
    return row === undefined ? undefined : toManifestRecord(row);
  }

  manifestPut(manifest: ManifestWrite): void {
    const repositoryId = this.ensureRepository(manifest.repository);
    const inserted = this.s.manifestInsert!.run(
      repositoryId,
      manifest.digest,
      manifest.mediaType,
      manifest.size,
      manifest.artifactType ?? null,
      manifest.subject ?? null,
      manifest.annotations === undefined ? null : JSON.stringify(manifest.annotations),
      manifest.createdAt.getTime(),
    );
    if (inserted.changes === 0) return;
    for (const blob of manifest.blobs)
      this.s.referenceInsert!.run(repositoryId, manifest.digest, blob, 'blob');
    for (const child of manifest.children)
      this.s.referenceInsert!.run(repositoryId, manifest.digest, child, 'manifest');
  }

  manifestDelete(repository: string, digest: Digest): boolean {
    return this.s.manifestDelete!.run(repository, digest).changes > 0;
  }

  missingManifests(repository: string, digests: Digest[]): Digest[] {
    return digests.filter((digest) => this.s.manifestGet!.get(repository, digest) === undefined);
  }

  referrers(repository: string, subject: Digest, artifactType?: string): ManifestRecord[] {
    const rows = (this.s.referrers!.all(repository, subject) as ManifestRow[]).map(toManifestRecord);
    return artifactType === undefined ? rows : rows.filter((row) => row.artifactType === artifactType);
  }

  manifestList(repository: string, query: OffsetQuery): Counted<ManifestRecord> {
    const rows = this.s.manifestList!.all(repository, query.limit, query.offset) as ManifestRow[];
    const total = this.s.manifestCount!.pluck().get(repository) as number;
    return { items: rows.map(toManifestRecord), total };
  }

  manifestChildren(repository: string, digest: Digest): Digest[] {
    return this.s.manifestChildren!.pluck().all(repository, digest) as Digest[];
  }

  manifestParents(repository: string, digest: Digest): Digest[] {
    return this.s.manifestParents!.pluck().all(repository, digest) as Digest[];
  }

  /** Pulls of one manifest are folded into one update: the latest time, and how many there were. */
  recordPulls(pulls: { repository: string; digest: Digest; at: Date }[]): void {
    for (const pull of foldPulls(pulls))
      this.s.manifestPulled!.run({
        repository: pull.repository,
        digest: pull.digest,
        at: pull.at,
        count: pull.count,
      });
  }

  tagResolve(repository: string, tag: string): Digest | undefined {
    return this.s.tagResolve!.pluck().get(repository, tag) as Digest | undefined;
  }

  tagSet(repository: string, tag: string, digest: Digest, at: Date): Digest | undefined {
    const previous = this.tagResolve(repository, tag);
    this.s.tagUpsert!.run(this.ensureRepository(repository), tag, digest, at.getTime());
    return previous;
  }

  tagDelete(repository: string, tag: string): boolean {
    return this.s.tagDelete!.run(repository, tag).changes > 0;
  }

  tagList(repository: string, page: Page): string[] {
    return this.s.tagList!.pluck().all(repository, page.last ?? '', page.limit) as string[];
  }

  tagsFor(repository: string, digest: Digest): string[] {
    return this.s.tagsFor!.pluck().all(repository, digest) as string[];
  }

  tagsDeleteFor(repository: string, digest: Digest): number {
    return this.s.tagsDeleteFor!.run(repository, digest).changes;
  }

  uploadCreate(session: UploadSession): void {
    this.s.uploadInsert!.run(session.id, session.repository, session.startedAt.getTime());
  }

  uploadGet(id: string): UploadSession | undefined {
    const row = this.s.uploadGet!.get(id) as
      { id: string; repository: string; started_at: number } | undefined;
    return row === undefined ? undefined : toUploadSession(row);
  }

  uploadDelete(id: string): boolean {
    return this.s.uploadDelete!.run(id).changes > 0;
  }

  uploadsStartedBefore(time: Date, limit: number): UploadSession[] {
    const rows = this.s.uploadsBefore!.all(time.getTime(), limit) as {
      id: string;
      repository: string;
      started_at: number;
    }[];
    return rows.map(toUploadSession);
  }
}

function toManifestRecord(row: ManifestRow): ManifestRecord {
  return {
    repository: row.name,
    digest: row.digest as Digest,
    mediaType: row.media_type,
    size: row.size,
    createdAt: new Date(row.created_at),
    ...(row.pulled_at !== null && { pulledAt: new Date(row.pulled_at) }),
    ...(row.artifact_type !== null && { artifactType: row.artifact_type }),
    ...(row.subject !== null && { subject: row.subject as Digest }),
    ...(row.annotations !== null && { annotations: JSON.parse(row.annotations) as Record<string, string> }),
  };
}

function toRepositorySummary(row: SummaryRow): RepositorySummary {
  return {
    name: row.name,
    artifactCount: row.artifact_count,
    pullCount: row.pull_count,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.last_push ?? row.created_at),
  };
}

/** One entry per manifest pulled: the latest pull time (milliseconds) and the number of pulls. */
export function foldPulls(
  pulls: { repository: string; digest: Digest; at: Date }[],
): { repository: string; digest: Digest; at: number; count: number }[] {
  const folded = new Map<string, { repository: string; digest: Digest; at: number; count: number }>();
  for (const pull of pulls) {
    const key = `${pull.repository}\u0000${pull.digest}`;
    const seen = folded.get(key);
    if (seen === undefined)
      folded.set(key, { repository: pull.repository, digest: pull.digest, at: pull.at.getTime(), count: 1 });
    else {
      seen.at = Math.max(seen.at, pull.at.getTime());
      seen.count += 1;
    }
  }
  return [...folded.values()];
}

function toUploadSession(row: { id: string; repository: string; started_at: number }): UploadSession {
  return { id: row.id, repository: row.repository, startedAt: new Date(row.started_at) };
}
