import type { Pool } from 'pg';
import { lifecycleSchemaPostgres } from './lifecycle-schema.js';

/**
 * Versioned schema changes, applied in order at start. Every text column that is sorted or compared
 * with `>` (names, tags, digests) is `COLLATE "C"`, which is byte order whatever the database's default
 * collation: tag lists and the catalog must be sorted by bytes, as on SQLite. Times are `timestamptz`
 * (microsecond precision, so a millisecond Date comes back exactly); sizes are `bigint`.
 */
export const migrations: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE repositories (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text COLLATE "C" NOT NULL UNIQUE,
        created_at timestamptz NOT NULL
      );
      CREATE TABLE blob_links (
        repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
        digest text COLLATE "C" NOT NULL,
        size bigint NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (repository_id, digest)
      );
      CREATE INDEX blob_links_by_digest ON blob_links (digest);
      CREATE TABLE manifests (
        repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
        digest text COLLATE "C" NOT NULL,
        media_type text NOT NULL,
        size bigint NOT NULL,
        artifact_type text,
        subject text COLLATE "C",
        -- json, not jsonb: keeps the annotations exactly as written (key order included).
        annotations json,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (repository_id, digest)
      );
      CREATE INDEX manifests_by_subject ON manifests (repository_id, subject) WHERE subject IS NOT NULL;
      CREATE TABLE manifest_references (
        repository_id bigint NOT NULL,
        manifest_digest text COLLATE "C" NOT NULL,
        child_digest text COLLATE "C" NOT NULL,
        kind text NOT NULL CHECK (kind IN ('blob', 'manifest')),
        PRIMARY KEY (repository_id, manifest_digest, child_digest),
        FOREIGN KEY (repository_id, manifest_digest)
          REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
      );
      CREATE INDEX manifest_references_by_child ON manifest_references (child_digest);
      CREATE TABLE tags (
        repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
        name text COLLATE "C" NOT NULL,
        manifest_digest text COLLATE "C" NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (repository_id, name),
        FOREIGN KEY (repository_id, manifest_digest)
          REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
      );
      CREATE INDEX tags_by_manifest ON tags (repository_id, manifest_digest);
      CREATE TABLE upload_sessions (
        id text PRIMARY KEY,
        repository text NOT NULL,
        started_at timestamptz NOT NULL
      );
      CREATE INDEX upload_sessions_by_start ON upload_sessions (started_at);
    `,
  },
  {
    // Identity and projects, and pull statistics of manifests. Identity columns never reuse an id, so a
    // deleted user's or robot's id cannot come back as somebody else's.
    version: 2,
    sql: `
      ALTER TABLE manifests ADD COLUMN pulled_at timestamptz;
      ALTER TABLE manifests ADD COLUMN pull_count bigint NOT NULL DEFAULT 0;
      CREATE INDEX manifests_by_push ON manifests (repository_id, created_at DESC, digest);
      CREATE INDEX manifest_references_by_repository_child ON manifest_references (repository_id, child_digest);
      CREATE TABLE users (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        username text COLLATE "C" NOT NULL UNIQUE,
        email text NOT NULL,
        realname text NOT NULL,
        comment text NOT NULL,
        sysadmin boolean NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE TABLE projects (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text COLLATE "C" NOT NULL UNIQUE,
        owner_id bigint NOT NULL,
        public boolean NOT NULL,
        -- jsonb: string values under string keys, merged by update with ||.
        metadata jsonb NOT NULL DEFAULT '{}',
        storage_limit bigint NOT NULL DEFAULT -1,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE TABLE project_members (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role_id integer NOT NULL,
        UNIQUE (project_id, user_id)
      );
      CREATE INDEX project_members_by_user ON project_members (user_id);
      CREATE TABLE robots (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text COLLATE "C" NOT NULL UNIQUE,
        description text NOT NULL,
        level text NOT NULL CHECK (level IN ('system', 'project')),
        project_id bigint REFERENCES projects (id) ON DELETE CASCADE,
        disabled boolean NOT NULL,
        duration integer NOT NULL,
        expires_at timestamptz,
        -- json, not jsonb: kept exactly as written.
        permissions json NOT NULL,
        secret_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE INDEX robots_by_project ON robots (project_id);
      CREATE TABLE settings (
        key text COLLATE "C" PRIMARY KEY,
        value text NOT NULL
      );
    `,
  },
  {
    // Tag retention (policies, executions, per-repository tasks with their logs) and immutable tag rules.
    // Policies and rules are Harbor's JSON, kept as written (json, not jsonb); they go with their project.
    version: 4,
    sql: `
      CREATE TABLE retention_policies (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        body json NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE INDEX retention_policies_by_project ON retention_policies (project_id);
      CREATE TABLE retention_executions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        policy_id bigint NOT NULL REFERENCES retention_policies (id) ON DELETE CASCADE,
        status text NOT NULL,
        trigger text NOT NULL,
        dry_run boolean NOT NULL,
        start_time timestamptz NOT NULL,
        end_time timestamptz
      );
      CREATE INDEX retention_executions_by_policy ON retention_executions (policy_id, id);
      CREATE TABLE retention_tasks (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        execution_id bigint NOT NULL REFERENCES retention_executions (id) ON DELETE CASCADE,
        repository text COLLATE "C" NOT NULL,
        status text NOT NULL,
        start_time timestamptz NOT NULL,
        end_time timestamptz,
        total integer NOT NULL DEFAULT 0,
        retained integer NOT NULL DEFAULT 0,
        log text NOT NULL DEFAULT ''
      );
      CREATE INDEX retention_tasks_by_execution ON retention_tasks (execution_id, id);
      CREATE TABLE immutable_rules (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        body json NOT NULL
      );
      CREATE INDEX immutable_rules_by_project ON immutable_rules (project_id, id);
    `,
  },
  {
    // Jobs, garbage collection and storage quotas (see lifecycle-schema.ts).
    version: 3,
    sql: lifecycleSchemaPostgres,
  },
];

/**
 * Key of the advisory lock that serialises migrations across nodes. Any constant works as long as
 * nothing else in the database uses it; this one is "berthmig" in ASCII, to be recognisable in pg_locks.
 */
const MIGRATION_LOCK = 0x62657274686d6967n;

/**
 * Applies the migrations this build knows and the database lacks, in one transaction that first takes
 * the migration lock. A second node starting at the same moment waits on the lock, then finds every
 * version recorded and does nothing. The transaction-scoped lock (`pg_advisory_xact_lock`) is released
 * by COMMIT or ROLLBACK, and by PostgreSQL itself if the connection dies, so it can never be left held;
 * DDL is transactional in PostgreSQL, so a failed migration leaves no half-made schema.
 */
export async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)',
      );
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const applied = new Set(rows.map((row) => row.version));
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql); // no parameters: the simple protocol runs several statements
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [
          migration.version,
        ]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    }
  } finally {
    // A connection that could not roll back is in an unknown state: destroy it rather than reuse it.
    client.release(broken);
  }
}
