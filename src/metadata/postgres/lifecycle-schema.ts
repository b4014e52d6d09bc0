/**
 * Migration 3: job history and schedules, garbage collection's pins and tombstones. Storage usage is
 * computed by a query here, not kept in a table by triggers as on SQLite: a counted row per project
 * would make every transaction linking into a project wait for every other one (see docs/performance.md).
 */
export const lifecycleSchemaPostgres = `
  CREATE TABLE job_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text COLLATE "C" NOT NULL,
    status text NOT NULL,
    trigger text NOT NULL,
    parameters json NOT NULL,
    result json,
    log text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    started_at timestamptz,
    ended_at timestamptz,
    updated_at timestamptz NOT NULL
  );
  CREATE INDEX job_runs_by_kind ON job_runs (kind, id DESC);
  CREATE TABLE job_schedules (
    kind text COLLATE "C" PRIMARY KEY,
    type text NOT NULL,
    cron text,
    parameters json NOT NULL,
    last_fired_at timestamptz,
    updated_at timestamptz NOT NULL
  );
  CREATE TABLE gc_pins (
    holder text COLLATE "C" NOT NULL,
    digest text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (holder, digest)
  );
  CREATE INDEX gc_pins_by_digest ON gc_pins (digest, created_at);
  CREATE TABLE gc_tombstones (
    digest text COLLATE "C" PRIMARY KEY,
    created_at timestamptz NOT NULL
  );
  CREATE INDEX manifests_by_digest ON manifests (digest);
  CREATE INDEX blob_links_by_age ON blob_links (created_at);
`;
