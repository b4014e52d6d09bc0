import { lifecycleSchemaSqlite } from './lifecycle-schema.js';

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
  {
    // Identity and projects, and pull statistics of manifests. AUTOINCREMENT keeps ids from ever being
    // reused: a deleted user's or robot's id must not come back as somebody else's.
    version: 2,
    sql: `
      ALTER TABLE manifests ADD COLUMN pulled_at INTEGER;
      ALTER TABLE manifests ADD COLUMN pull_count INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX manifests_by_push ON manifests (repository_id, created_at DESC, digest);
      CREATE INDEX manifest_references_by_repository_child ON manifest_references (repository_id, child_digest);
      CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE,
        email TEXT NOT NULL,
        realname TEXT NOT NULL,
        comment TEXT NOT NULL,
        sysadmin INTEGER NOT NULL CHECK (sysadmin IN (0, 1)),
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE projects (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        owner_id INTEGER NOT NULL,
        public INTEGER NOT NULL CHECK (public IN (0, 1)),
        metadata TEXT NOT NULL DEFAULT '{}',
        storage_limit INTEGER NOT NULL DEFAULT -1,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE project_members (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role_id INTEGER NOT NULL,
        UNIQUE (project_id, user_id)
      );
      CREATE INDEX project_members_by_user ON project_members (user_id);
      CREATE TABLE robots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('system', 'project')),
        project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
        disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),
        duration INTEGER NOT NULL,
        expires_at INTEGER,
        permissions TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX robots_by_project ON robots (project_id);
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    // Jobs, garbage collection and storage quotas (see lifecycle-schema.ts).
    version: 3,
    sql: lifecycleSchemaSqlite,
  },
  {
    // Tag retention (policies, executions, per-repository tasks with their logs) and immutable tag rules.
    // Policies and rules are Harbor's JSON, kept as written; they go with their project.
    version: 4,
    sql: `
      CREATE TABLE retention_policies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX retention_policies_by_project ON retention_policies (project_id);
      CREATE TABLE retention_executions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        policy_id INTEGER NOT NULL REFERENCES retention_policies (id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        trigger TEXT NOT NULL,
        dry_run INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
        start_time INTEGER NOT NULL,
        end_time INTEGER
      );
      CREATE INDEX retention_executions_by_policy ON retention_executions (policy_id, id);
      CREATE TABLE retention_tasks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        execution_id INTEGER NOT NULL REFERENCES retention_executions (id) ON DELETE CASCADE,
        repository TEXT NOT NULL,
        status TEXT NOT NULL,
        start_time INTEGER NOT NULL,
        end_time INTEGER,
        total INTEGER NOT NULL DEFAULT 0,
        retained INTEGER NOT NULL DEFAULT 0,
        log TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX retention_tasks_by_execution ON retention_tasks (execution_id, id);
      CREATE TABLE immutable_rules (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        body TEXT NOT NULL
      );
      CREATE INDEX immutable_rules_by_project ON immutable_rules (project_id, id);
    `,
  },
];
