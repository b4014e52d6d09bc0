/** Project of a repository name: its first path segment (NULL for a name without one). */
const projectOf = (id: string) =>
  `(SELECT substr(name, 1, instr(name, '/') - 1) FROM repositories WHERE id = ${id} AND instr(name, '/') > 0)`;

/**
 * Migration 3: job history and schedules, garbage collection's pins and tombstones, and per-project
 * storage usage. Usage is kept by triggers on blob_links, so every path that links or unlinks (upload,
 * mount, manifest put and delete, GC, repository delete) counts in the same transaction. A repository
 * delete first removes its links (a BEFORE trigger) so that the link triggers still see its name.
 */
export const lifecycleSchemaSqlite = `
  CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    trigger TEXT NOT NULL,
    parameters TEXT NOT NULL,
    result TEXT,
    log TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX job_runs_by_kind ON job_runs (kind, id DESC);
  CREATE TABLE job_schedules (
    kind TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    cron TEXT,
    parameters TEXT NOT NULL,
    last_fired_at INTEGER,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE gc_pins (
    holder TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (holder, digest)
  ) WITHOUT ROWID;
  CREATE INDEX gc_pins_by_digest ON gc_pins (digest, created_at);
  CREATE TABLE gc_tombstones (
    digest TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX manifests_by_digest ON manifests (digest);
  CREATE INDEX blob_links_by_age ON blob_links (created_at);
  CREATE TABLE project_blobs (
    project TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    refs INTEGER NOT NULL,
    PRIMARY KEY (project, digest)
  ) WITHOUT ROWID;
  CREATE TABLE project_usage (
    project TEXT PRIMARY KEY,
    used INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO project_blobs (project, digest, size, refs)
    SELECT substr(r.name, 1, instr(r.name, '/') - 1), l.digest, max(l.size), count(*)
    FROM blob_links l JOIN repositories r ON r.id = l.repository_id
    WHERE instr(r.name, '/') > 0 GROUP BY 1, 2;
  INSERT INTO project_usage (project, used) SELECT project, sum(size) FROM project_blobs GROUP BY project;
  CREATE TRIGGER blob_links_count AFTER INSERT ON blob_links
  WHEN ${projectOf('NEW.repository_id')} IS NOT NULL
  BEGIN
    INSERT INTO project_usage (project, used)
      SELECT ${projectOf('NEW.repository_id')}, NEW.size
      WHERE NOT EXISTS (SELECT 1 FROM project_blobs
        WHERE project = ${projectOf('NEW.repository_id')} AND digest = NEW.digest)
      ON CONFLICT (project) DO UPDATE SET used = used + excluded.used;
    INSERT INTO project_blobs (project, digest, size, refs)
      VALUES (${projectOf('NEW.repository_id')}, NEW.digest, NEW.size, 1)
      ON CONFLICT (project, digest) DO UPDATE SET refs = refs + 1;
  END;
  CREATE TRIGGER blob_links_uncount AFTER DELETE ON blob_links
  WHEN ${projectOf('OLD.repository_id')} IS NOT NULL
  BEGIN
    UPDATE project_blobs SET refs = refs - 1
      WHERE project = ${projectOf('OLD.repository_id')} AND digest = OLD.digest;
    UPDATE project_usage SET used = used - (SELECT size FROM project_blobs
        WHERE project = ${projectOf('OLD.repository_id')} AND digest = OLD.digest)
      WHERE project = ${projectOf('OLD.repository_id')} AND EXISTS (SELECT 1 FROM project_blobs
        WHERE project = ${projectOf('OLD.repository_id')} AND digest = OLD.digest AND refs <= 0);
    DELETE FROM project_blobs
      WHERE project = ${projectOf('OLD.repository_id')} AND digest = OLD.digest AND refs <= 0;
  END;
  CREATE TRIGGER repositories_unlink BEFORE DELETE ON repositories
  BEGIN
    DELETE FROM blob_links WHERE repository_id = OLD.id;
  END;
`;
