import type { Database, Statement } from 'better-sqlite3';
import type { Digest } from '../../core/oci/digest.js';
import type { ManifestRecord, ManifestWrite, Page, UploadSession } from '../../core/ports.js';

interface ManifestRow {
  name: string;
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject: string | null;
  annotations: string | null;
  created_at: number;
}

/**
 * Every SQL statement of the SQLite store, prepared once per connection. Methods are synchronous
 * (better-sqlite3 is); the store wraps them in the async port.
 */
export class SqliteQueries {
  private readonly s: Record<string, Statement>;

  constructor(private readonly db: Database) {
    const prepare = (sql: string) => db.prepare(sql);
    this.s = {
      repoId: prepare('SELECT id FROM repositories WHERE name = ?'),
      repoInsert: prepare(
        'INSERT INTO repositories (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
      ),
      repoList: prepare('SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?'),
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

  /** Runs `fn` between BEGIN IMMEDIATE and COMMIT (or ROLLBACK when it throws). */
  async inTransaction<T>(fn: () => Promise<T>): Promise<T> {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = await fn();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }
}

function toManifestRecord(row: ManifestRow): ManifestRecord {
  return {
    repository: row.name,
    digest: row.digest as Digest,
    mediaType: row.media_type,
    size: row.size,
    createdAt: new Date(row.created_at),
    ...(row.artifact_type !== null && { artifactType: row.artifact_type }),
    ...(row.subject !== null && { subject: row.subject as Digest }),
    ...(row.annotations !== null && { annotations: JSON.parse(row.annotations) as Record<string, string> }),
  };
}

function toUploadSession(row: { id: string; repository: string; started_at: number }): UploadSession {
  return { id: row.id, repository: row.repository, startedAt: new Date(row.started_at) };
}
