import type {
  Member,
  Project,
  ProjectMetadata,
  Robot,
  RobotPermission,
  RoleId,
  User,
} from '../../core/iam/model.js';
import type {
  Counted,
  Created,
  NewProject,
  NewRobot,
  NewUser,
  OffsetQuery,
  ProjectQuery,
  RobotStore,
  UserStore,
} from '../../core/ports.js';
import type { Queryable } from './queries.js';

// bigint columns (ids, storage limits, counts) come back from pg as strings; they are converted with
// Number(), exact up to 2^53.

interface UserRow {
  id: string;
  username: string;
  email: string;
  realname: string;
  comment: string;
  sysadmin: boolean;
  created_at: Date;
  updated_at: Date;
}

interface ProjectRow {
  id: string;
  name: string;
  owner_id: string;
  public: boolean;
  metadata: ProjectMetadata; // jsonb: pg parses it
  storage_limit: string;
  created_at: Date;
  updated_at: Date;
}

interface MemberRow {
  id: string;
  project_id: string;
  user_id: string;
  username: string;
  role_id: number;
}

interface RobotRow {
  id: string;
  name: string;
  description: string;
  level: 'system' | 'project';
  project_id: string | null;
  disabled: boolean;
  duration: number;
  expires_at: Date | null;
  permissions: RobotPermission[]; // json: pg parses it
  created_at: Date;
  updated_at: Date;
}

type UserPatch = Parameters<UserStore['update']>[1];
type RobotPatch = Parameters<RobotStore['update']>[1];

const userColumns = 'id, username, email, realname, comment, sysadmin, created_at, updated_at';
const projectColumns = 'id, name, owner_id, public, metadata, storage_limit, created_at, updated_at';
const robotColumns = `id, name, description, level, project_id, disabled, duration, expires_at, permissions,
  created_at, updated_at`;
const memberSelect = `SELECT pm.id, pm.project_id, pm.user_id, u.username, pm.role_id
  FROM project_members pm JOIN users u ON u.id = pm.user_id`;

/** $1 name, $2 substring, $3 public, $4 visible to user id. */
const projectFilter = `($1::text IS NULL OR p.name = $1)
  AND ($2::text IS NULL OR strpos(p.name, $2) > 0)
  AND ($3::boolean IS NULL OR p.public = $3)
  AND ($4::bigint IS NULL OR p.public
    OR EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = p.id AND pm.user_id = $4))`;
/** $1 project id, $2 level, $3 substring. */
const robotFilter = `($1::bigint IS NULL OR project_id = $1)
  AND ($2::text IS NULL OR level = $2)
  AND ($3::text IS NULL OR strpos(name, $3) > 0)`;

/**
 * The statements of users, projects, members, robots and settings on one Queryable. None takes a
 * repository lock, and each write is a single statement, atomic on the pool as it is. A unique-name
 * conflict is an `ON CONFLICT DO NOTHING` that inserts no row, reported as `{ok: false}`: unlike a
 * caught unique violation, it leaves an enclosing transaction usable. Substring filters use `strpos`
 * (case-sensitive, no LIKE wildcards to escape).
 */
export class PostgresIdentityQueries {
  constructor(private readonly db: Queryable) {}

  // ------------------------------------------------------------ users

  async userCreate(user: NewUser, at: Date): Promise<Created<User>> {
    const result = await this.db.query<UserRow>(
      `INSERT INTO users (username, email, realname, comment, sysadmin, password_hash, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
       ON CONFLICT DO NOTHING RETURNING ${userColumns}`,
      [user.username, user.email, user.realname, user.comment, user.sysadmin, user.passwordHash, at],
    );
    const row = result.rows[0];
    return row === undefined ? { ok: false, reason: 'conflict' } : { ok: true, value: toUser(row) };
  }

  async userGet(id: number): Promise<User | undefined> {
    const result = await this.db.query<UserRow>(`SELECT ${userColumns} FROM users WHERE id = $1`, [id]);
    const row = result.rows[0];
    return row === undefined ? undefined : toUser(row);
  }

  async userGetByName(username: string): Promise<User | undefined> {
    const result = await this.db.query<UserRow>(`SELECT ${userColumns} FROM users WHERE username = $1`, [
      username,
    ]);
    const row = result.rows[0];
    return row === undefined ? undefined : toUser(row);
  }

  async userPasswordHash(id: number): Promise<string | undefined> {
    const result = await this.db.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE id = $1',
      [id],
    );
    return result.rows[0]?.password_hash;
  }

  async userList(query: OffsetQuery & { q?: string }): Promise<Counted<User>> {
    const filter = '$1::text IS NULL OR strpos(username, $1) > 0';
    const q = query.q ?? null;
    const rows = await this.db.query<UserRow>(
      `SELECT ${userColumns} FROM users WHERE ${filter} ORDER BY username LIMIT $2 OFFSET $3`,
      [q, query.limit, query.offset],
    );
    const total = await this.db.query<{ total: string }>(
      `SELECT count(*) AS total FROM users WHERE ${filter}`,
      [q],
    );
    return { items: rows.rows.map(toUser), total: Number(total.rows[0]?.total ?? 0) };
  }

  async userUpdate(id: number, patch: UserPatch, at: Date): Promise<User | undefined> {
    const result = await this.db.query<UserRow>(
      `UPDATE users SET email = coalesce($2, email), realname = coalesce($3, realname),
         comment = coalesce($4, comment), sysadmin = coalesce($5::boolean, sysadmin),
         password_hash = coalesce($6, password_hash), updated_at = $7
       WHERE id = $1 RETURNING ${userColumns}`,
      [
        id,
        patch.email ?? null,
        patch.realname ?? null,
        patch.comment ?? null,
        patch.sysadmin ?? null,
        patch.passwordHash ?? null,
        at,
      ],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : toUser(row);
  }

  /** Memberships go by the foreign key's cascade. */
  async userDelete(id: number): Promise<boolean> {
    const result = await this.db.query('DELETE FROM users WHERE id = $1', [id]);
    return (result.rowCount ?? 0) > 0;
  }

  // ------------------------------------------------------------ projects

  async projectCreate(project: NewProject, at: Date): Promise<Created<Project>> {
    const result = await this.db.query<ProjectRow>(
      `INSERT INTO projects (name, owner_id, public, metadata, storage_limit, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6)
       ON CONFLICT DO NOTHING RETURNING ${projectColumns}`,
      [
        project.name,
        project.ownerId,
        project.public,
        JSON.stringify(project.metadata),
        project.storageLimit,
        at,
      ],
    );
    const row = result.rows[0];
    return row === undefined ? { ok: false, reason: 'conflict' } : { ok: true, value: toProject(row) };
  }

  async projectGet(id: number): Promise<Project | undefined> {
    const result = await this.db.query<ProjectRow>(`SELECT ${projectColumns} FROM projects WHERE id = $1`, [
      id,
    ]);
    const row = result.rows[0];
    return row === undefined ? undefined : toProject(row);
  }

  async projectGetByName(name: string): Promise<Project | undefined> {
    const result = await this.db.query<ProjectRow>(`SELECT ${projectColumns} FROM projects WHERE name = $1`, [
      name,
    ]);
    const row = result.rows[0];
    return row === undefined ? undefined : toProject(row);
  }

  async projectList(query: ProjectQuery): Promise<Counted<Project>> {
    const filter = [query.name ?? null, query.q ?? null, query.public ?? null, query.visibleTo ?? null];
    const rows = await this.db.query<ProjectRow>(
      `SELECT ${projectColumns} FROM projects p WHERE ${projectFilter} ORDER BY p.name LIMIT $5 OFFSET $6`,
      [...filter, query.limit, query.offset],
    );
    const total = await this.db.query<{ total: string }>(
      `SELECT count(*) AS total FROM projects p WHERE ${projectFilter}`,
      filter,
    );
    return { items: rows.rows.map(toProject), total: Number(total.rows[0]?.total ?? 0) };
  }

  /** `metadata` is merged with jsonb's `||`: given keys replace, others stay. */
  async projectUpdate(
    id: number,
    patch: { public?: boolean; metadata?: ProjectMetadata; storageLimit?: number },
    at: Date,
  ): Promise<Project | undefined> {
    const result = await this.db.query<ProjectRow>(
      `UPDATE projects SET public = coalesce($2::boolean, public),
         storage_limit = coalesce($3::bigint, storage_limit),
         metadata = metadata || coalesce($4::jsonb, '{}'::jsonb), updated_at = $5
       WHERE id = $1 RETURNING ${projectColumns}`,
      [
        id,
        patch.public ?? null,
        patch.storageLimit ?? null,
        patch.metadata === undefined ? null : JSON.stringify(patch.metadata),
        at,
      ],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : toProject(row);
  }

  /** Members and robots go by the foreign keys' cascades. */
  async projectDelete(id: number): Promise<boolean> {
    const result = await this.db.query('DELETE FROM projects WHERE id = $1', [id]);
    return (result.rowCount ?? 0) > 0;
  }

  // ------------------------------------------------------------ members

  async memberList(projectId: number, query?: { entityName?: string }): Promise<Member[]> {
    const result = await this.db.query<MemberRow>(
      `${memberSelect} WHERE pm.project_id = $1 AND ($2::text IS NULL OR strpos(u.username, $2) > 0)
       ORDER BY u.username`,
      [projectId, query?.entityName ?? null],
    );
    return result.rows.map(toMember);
  }

  async memberGet(projectId: number, memberId: number): Promise<Member | undefined> {
    const result = await this.db.query<MemberRow>(`${memberSelect} WHERE pm.project_id = $1 AND pm.id = $2`, [
      projectId,
      memberId,
    ]);
    const row = result.rows[0];
    return row === undefined ? undefined : toMember(row);
  }

  async memberRoleOf(projectId: number, userId: number): Promise<RoleId | undefined> {
    const result = await this.db.query<{ role_id: number }>(
      'SELECT role_id FROM project_members WHERE project_id = $1 AND user_id = $2',
      [projectId, userId],
    );
    return result.rows[0]?.role_id as RoleId | undefined;
  }

  /** A missing project or user is a foreign-key error (thrown), not a conflict. */
  async memberAdd(projectId: number, userId: number, roleId: RoleId): Promise<Created<Member>> {
    const result = await this.db.query<MemberRow>(
      `WITH added AS (
         INSERT INTO project_members (project_id, user_id, role_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING id, project_id, user_id, role_id
       )
       SELECT a.id, a.project_id, a.user_id, u.username, a.role_id FROM added a JOIN users u ON u.id = a.user_id`,
      [projectId, userId, roleId],
    );
    const row = result.rows[0];
    return row === undefined ? { ok: false, reason: 'conflict' } : { ok: true, value: toMember(row) };
  }

  async memberUpdate(projectId: number, memberId: number, roleId: RoleId): Promise<boolean> {
    const result = await this.db.query(
      'UPDATE project_members SET role_id = $3 WHERE project_id = $1 AND id = $2',
      [projectId, memberId, roleId],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async memberRemove(projectId: number, memberId: number): Promise<boolean> {
    const result = await this.db.query('DELETE FROM project_members WHERE project_id = $1 AND id = $2', [
      projectId,
      memberId,
    ]);
    return (result.rowCount ?? 0) > 0;
  }

  // ------------------------------------------------------------ robots

  async robotCreate(robot: NewRobot, at: Date): Promise<Created<Robot>> {
    const result = await this.db.query<RobotRow>(
      `INSERT INTO robots (name, description, level, project_id, disabled, duration, expires_at, permissions,
         secret_hash, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
       ON CONFLICT DO NOTHING RETURNING ${robotColumns}`,
      [
        robot.name,
        robot.description,
        robot.level,
        robot.projectId ?? null,
        robot.disabled,
        robot.duration,
        robot.expiresAt ?? null,
        JSON.stringify(robot.permissions),
        robot.secretHash,
        at,
      ],
    );
    const row = result.rows[0];
    return row === undefined ? { ok: false, reason: 'conflict' } : { ok: true, value: toRobot(row) };
  }

  async robotGet(id: number): Promise<Robot | undefined> {
    const result = await this.db.query<RobotRow>(`SELECT ${robotColumns} FROM robots WHERE id = $1`, [id]);
    const row = result.rows[0];
    return row === undefined ? undefined : toRobot(row);
  }

  async robotGetByName(name: string): Promise<Robot | undefined> {
    const result = await this.db.query<RobotRow>(`SELECT ${robotColumns} FROM robots WHERE name = $1`, [
      name,
    ]);
    const row = result.rows[0];
    return row === undefined ? undefined : toRobot(row);
  }

  async robotSecretHash(id: number): Promise<string | undefined> {
    const result = await this.db.query<{ secret_hash: string }>(
      'SELECT secret_hash FROM robots WHERE id = $1',
      [id],
    );
    return result.rows[0]?.secret_hash;
  }

  async robotList(
    query: OffsetQuery & { projectId?: number; level?: 'system' | 'project'; q?: string },
  ): Promise<Counted<Robot>> {
    const filter = [query.projectId ?? null, query.level ?? null, query.q ?? null];
    const rows = await this.db.query<RobotRow>(
      `SELECT ${robotColumns} FROM robots WHERE ${robotFilter} ORDER BY name LIMIT $4 OFFSET $5`,
      [...filter, query.limit, query.offset],
    );
    const total = await this.db.query<{ total: string }>(
      `SELECT count(*) AS total FROM robots WHERE ${robotFilter}`,
      filter,
    );
    return { items: rows.rows.map(toRobot), total: Number(total.rows[0]?.total ?? 0) };
  }

  /** `$7` says whether to set `expires_at` at all, so that `expiresAt: null` clears it. */
  async robotUpdate(id: number, patch: RobotPatch, at: Date): Promise<Robot | undefined> {
    const result = await this.db.query<RobotRow>(
      `UPDATE robots SET description = coalesce($2, description), disabled = coalesce($3::boolean, disabled),
         duration = coalesce($4::integer, duration), permissions = coalesce($5::json, permissions),
         secret_hash = coalesce($6, secret_hash),
         expires_at = CASE WHEN $7::boolean THEN $8::timestamptz ELSE expires_at END, updated_at = $9
       WHERE id = $1 RETURNING ${robotColumns}`,
      [
        id,
        patch.description ?? null,
        patch.disabled ?? null,
        patch.duration ?? null,
        patch.permissions === undefined ? null : JSON.stringify(patch.permissions),
        patch.secretHash ?? null,
        patch.expiresAt !== undefined,
        patch.expiresAt ?? null,
        at,
      ],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : toRobot(row);
  }

  async robotDelete(id: number): Promise<boolean> {
    const result = await this.db.query('DELETE FROM robots WHERE id = $1', [id]);
    return (result.rowCount ?? 0) > 0;
  }

  // ------------------------------------------------------------ settings

  async settingGet(key: string): Promise<string | undefined> {
    const result = await this.db.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
    return result.rows[0]?.value;
  }

  /**
   * First writer wins across nodes. A concurrent INSERT of the same key makes ON CONFLICT DO NOTHING wait
   * for the other transaction and then insert nothing; the SELECT that follows is a new statement, so
   * under READ COMMITTED its snapshot sees the winner's committed row. (One statement could not: its
   * snapshot would predate the other commit.)
   */
  async settingPutIfAbsent(key: string, value: string): Promise<string> {
    await this.db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      key,
      value,
    ]);
    const stored = await this.settingGet(key);
    if (stored === undefined) throw new Error(`setting ${key} vanished while it was being stored`);
    return stored;
  }

  async settingPut(key: string, value: string): Promise<void> {
    await this.db.query(
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }
}

function toUser(row: UserRow): User {
  return {
    id: Number(row.id),
    username: row.username,
    email: row.email,
    realname: row.realname,
    comment: row.comment,
    sysadmin: row.sysadmin,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toProject(row: ProjectRow): Project {
  return {
    id: Number(row.id),
    name: row.name,
    ownerId: Number(row.owner_id),
    public: row.public,
    metadata: row.metadata,
    storageLimit: Number(row.storage_limit),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toMember(row: MemberRow): Member {
  return {
    id: Number(row.id),
    projectId: Number(row.project_id),
    userId: Number(row.user_id),
    username: row.username,
    roleId: row.role_id as RoleId,
  };
}

function toRobot(row: RobotRow): Robot {
  return {
    id: Number(row.id),
    name: row.name,
    description: row.description,
    level: row.level,
    ...(row.project_id !== null && { projectId: Number(row.project_id) }),
    disabled: row.disabled,
    duration: row.duration,
    ...(row.expires_at !== null && { expiresAt: row.expires_at }),
    permissions: row.permissions,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
