/**
 * Versioned schema changes, applied in order at start. Text columns compare with SQLite's default
 * BINARY collation, which is byte order: exactly what tag lists and the catalog must be sorted by.
 */
export const migrations: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE repositories (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE blob_links (
        repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        digest TEXT NOT NULL,
        size INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (repository_id, digest)
      ) WITHOUT ROWID;
      CREATE INDEX blob_links_by_digest ON blob_links (digest);
      CREATE TABLE manifests (
        repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        digest TEXT NOT NULL,
        media_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        artifact_type TEXT,
        subject TEXT,
        annotations TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (repository_id, digest)
      ) WITHOUT ROWID;
      CREATE INDEX manifests_by_subject ON manifests (repository_id, subject) WHERE subject IS NOT NULL;
      CREATE TABLE manifest_references (
        repository_id INTEGER NOT NULL,
        manifest_digest TEXT NOT NULL,
        child_digest TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('blob', 'manifest')),
        PRIMARY KEY (repository_id, manifest_digest, child_digest),
        FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE INDEX manifest_references_by_child ON manifest_references (child_digest);
      CREATE TABLE tags (
        repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        manifest_digest TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (repository_id, name),
        FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE INDEX tags_by_manifest ON tags (repository_id, manifest_digest);
      CREATE TABLE upload_sessions (
        id TEXT PRIMARY KEY,
        repository TEXT NOT NULL,
        started_at INTEGER NOT NULL
      );
      CREATE INDEX upload_sessions_by_start ON upload_sessions (started_at);
    `,
  },
];
