import type { Database, Statement } from 'better-sqlite3';
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

interface UserRow {
  id: number;
  username: string;
  email: string;
  realname: string;
  comment: string;
  sysadmin: number;
  created_at: number;
  updated_at: number;
}

interface ProjectRow {
  id: number;
  name: string;
  owner_id: number;
  public: number;
  metadata: string;
  storage_limit: number;
  created_at: number;
  updated_at: number;
}

interface MemberRow {
  id: number;
  project_id: number;
  user_id: number;
  username: string;
  role_id: number;
}

interface RobotRow {
  id: number;
  name: string;
  description: string;
  level: 'system' | 'project';
  project_id: number | null;
  disabled: number;
  duration: number;
  expires_at: number | null;
  permissions: string;
  created_at: number;
  updated_at: number;
}

type UserPatch = Parameters<UserStore['update']>[1];
type RobotPatch = Parameters<RobotStore['update']>[1];

const userColumns = 'id, username, email, realname, comment, sysadmin, created_at, updated_at';
const robotColumns = `id, name, description, level, project_id, disabled, duration, expires_at, permissions,
  created_at, updated_at`;
const memberSelect = `SELECT pm.id, pm.project_id, pm.user_id, u.username, pm.role_id
  FROM project_members pm JOIN users u ON u.id = pm.user_id`;

const projectFilter = `(@name IS NULL OR p.name = @name)
  AND (@q IS NULL OR instr(p.name, @q) > 0)
  AND (@public IS NULL OR p.public = @public)
  AND (@visible_to IS NULL OR p.public = 1
    OR EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = p.id AND pm.user_id = @visible_to))`;
const robotFilter = `(@project_id IS NULL OR project_id = @project_id)
  AND (@level IS NULL OR level = @level)
  AND (@q IS NULL OR instr(name, @q) > 0)`;

/**
 * The statements of users, projects, members, robots and settings on one connection. A unique-name
 * conflict is an `ON CONFLICT DO NOTHING` that inserts no row, reported as `{ok: false}`; substring
 * filters use `instr` (case-sensitive, no LIKE wildcards to escape).
 */
export class SqliteIdentityQueries {
  private readonly s: Record<string, Statement>;

  constructor(db: Database) {
    const prepare = (sql: string) => db.prepare(sql);
    this.s = {
      userInsert: prepare(
        `INSERT INTO users (username, email, realname, comment, sysadmin, password_hash, created_at, updated_at)
         VALUES (@username, @email, @realname, @comment, @sysadmin, @password_hash, @at, @at)
         ON CONFLICT DO NOTHING RETURNING ${userColumns}`,
      ),
      userGet: prepare(`SELECT ${userColumns} FROM users WHERE id = ?`),
      userByName: prepare(`SELECT ${userColumns} FROM users WHERE username = ?`),
      userPassword: prepare('SELECT password_hash FROM users WHERE id = ?'),
      userList: prepare(
        `SELECT ${userColumns} FROM users WHERE @q IS NULL OR instr(username, @q) > 0
         ORDER BY username LIMIT @limit OFFSET @offset`,
      ),
      userCount: prepare('SELECT count(*) FROM users WHERE @q IS NULL OR instr(username, @q) > 0'),
      userUpdate: prepare(
        `UPDATE users SET email = coalesce(@email, email), realname = coalesce(@realname, realname),
           comment = coalesce(@comment, comment), sysadmin = coalesce(@sysadmin, sysadmin),
           password_hash = coalesce(@password_hash, password_hash), updated_at = @at
         WHERE id = @id RETURNING ${userColumns}`,
      ),
      userDelete: prepare('DELETE FROM users WHERE id = ?'),

      projectInsert: prepare(
        `INSERT INTO projects (name, owner_id, public, metadata, storage_limit, created_at, updated_at)
         VALUES (@name, @owner_id, @public, @metadata, @storage_limit, @at, @at)
         ON CONFLICT DO NOTHING RETURNING *`,
      ),
      projectGet: prepare('SELECT * FROM projects WHERE id = ?'),
      projectByName: prepare('SELECT * FROM projects WHERE name = ?'),
      projectList: prepare(
        `SELECT p.* FROM projects p WHERE ${projectFilter} ORDER BY p.name LIMIT @limit OFFSET @offset`,
      ),
      projectCount: prepare(`SELECT count(*) FROM projects p WHERE ${projectFilter}`),
      projectUpdate: prepare(
        `UPDATE projects SET public = coalesce(@public, public),
           storage_limit = coalesce(@storage_limit, storage_limit),
           metadata = CASE WHEN @metadata IS NULL THEN metadata ELSE json_patch(metadata, @metadata) END,
           updated_at = @at
         WHERE id = @id RETURNING *`,
      ),
      projectDelete: prepare('DELETE FROM projects WHERE id = ?'),

      memberList: prepare(
        `${memberSelect} WHERE pm.project_id = @project_id AND (@name IS NULL OR instr(u.username, @name) > 0)
         ORDER BY u.username`,
      ),
      memberGet: prepare(`${memberSelect} WHERE pm.project_id = ? AND pm.id = ?`),
      memberRole: prepare('SELECT role_id FROM project_members WHERE project_id = ? AND user_id = ?'),
      memberInsert: prepare(
        `INSERT INTO project_members (project_id, user_id, role_id) VALUES (?, ?, ?)
         ON CONFLICT DO NOTHING RETURNING id`,
      ),
      memberUpdate: prepare('UPDATE project_members SET role_id = ? WHERE project_id = ? AND id = ?'),
      memberDelete: prepare('DELETE FROM project_members WHERE project_id = ? AND id = ?'),

      robotInsert: prepare(
        `INSERT INTO robots (name, description, level, project_id, disabled, duration, expires_at, permissions,
           secret_hash, created_at, updated_at)
         VALUES (@name, @description, @level, @project_id, @disabled, @duration, @expires_at, @permissions,
           @secret_hash, @at, @at)
         ON CONFLICT DO NOTHING RETURNING ${robotColumns}`,
      ),
      robotGet: prepare(`SELECT ${robotColumns} FROM robots WHERE id = ?`),
      robotByName: prepare(`SELECT ${robotColumns} FROM robots WHERE name = ?`),
      robotSecret: prepare('SELECT secret_hash FROM robots WHERE id = ?'),
      robotList: prepare(
        `SELECT ${robotColumns} FROM robots WHERE ${robotFilter} ORDER BY name LIMIT @limit OFFSET @offset`,
      ),
      robotCount: prepare(`SELECT count(*) FROM robots WHERE ${robotFilter}`),
      robotUpdate: prepare(
        `UPDATE robots SET description = coalesce(@description, description),
           disabled = coalesce(@disabled, disabled), duration = coalesce(@duration, duration),
           permissions = coalesce(@permissions, permissions), secret_hash = coalesce(@secret_hash, secret_hash),
           expires_at = CASE WHEN @set_expiry THEN @expires_at ELSE expires_at END, updated_at = @at
         WHERE id = @id RETURNING ${robotColumns}`,
      ),
      robotDelete: prepare('DELETE FROM robots WHERE id = ?'),

      settingGet: prepare('SELECT value FROM settings WHERE key = ?'),
      settingInsert: prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      settingUpsert: prepare(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  // ------------------------------------------------------------ users

  userCreate(user: NewUser, at: Date): Created<User> {
    const row = this.s.userInsert!.get({
      username: user.username,
      email: user.email,
      realname: user.realname,
      comment: user.comment,
      sysadmin: user.sysadmin ? 1 : 0,
      password_hash: user.passwordHash,
      at: at.getTime(),
    }) as UserRow | undefined;
    return row === undefined ? { ok: false, reason: 'conflict' } : { ok: true, value: toUser(row) };
  }

  userGet(id: number): User | undefined {
    const row = this.s.userGet!.get(id) as UserRow | undefined;
    return row === undefined ? undefined : toUser(row);
  }

  userGetByName(username: string): User | undefined {
    const row = this.s.userByName!.get(username) as UserRow | undefined;
    return row === undefined ? undefined : toUser(row);
  }

  userPasswordHash(id: number): string | undefined {
    return this.s.userPassword!.pluck().get(id) as string | undefined;
  }

  userList(query: OffsetQuery & { q?: string }): Counted<User> {
    const filter = { q: query.q ?? null };
    const rows = this.s.userList!.all({ ...filter, limit: query.limit, offset: query.offset }) as UserRow[];
    return { items: rows.map(toUser), total: this.s.userCount!.pluck().get(filter) as number };
  }

  userUpdate(id: number, patch: UserPatch, at: Date): User | undefined {
    const row = this.s.userUpdate!.get({
      id,
      email: patch.email ?? null,
      realname: patch.realname ?? null,
      comment: patch.comment ?? null,
      sysadmin: patch.sysadmin === undefined ? null : patch.sysadmin ? 1 : 0,
      password_hash: patch.passwordHash ?? null,
      at: at.getTime(),
    }) as UserRow | undefined;
    return row === undefined ? undefined : toUser(row);
  }

  /** Memberships go by the foreign key's cascade. */
  userDelete(id: number): boolean {
    return this.s.userDelete!.run(id).changes > 0;
  }

  // ------------------------------------------------------------ projects

  projectCreate(project: NewProject, at: Date): Created<Project> {
    const row = this.s.projectInsert!.get({
      name: project.name,
      owner_id: project.ownerId,
      public: project.public ? 1 : 0,
      metadata: JSON.stringify(project.metadata),
      storage_limit: project.storageLimit,
      at: at.getTime(),
    }) as ProjectRow | undefined;
    return row === undefined ? { ok: false, reason: 'conflict' } : { ok: true, value: toProject(row) };
  }

  projectGet(id: number): Project | undefined {
    const row = this.s.projectGet!.get(id) as ProjectRow | undefined;
    return row === undefined ? undefined : toProject(row);
  }

  projectGetByName(name: string): Project | undefined {
    const row = this.s.projectByName!.get(name) as ProjectRow | undefined;
    return row === undefined ? undefined : toProject(row);
  }

  projectList(query: ProjectQuery): Counted<Project> {
    const filter = {
      name: query.name ?? null,
      q: query.q ?? null,
      public: query.public === undefined ? null : query.public ? 1 : 0,
      visible_to: query.visibleTo ?? null,
    };
    const rows = this.s.projectList!.all({
      ...filter,
      limit: query.limit,
      offset: query.offset,
    }) as ProjectRow[];
    return { items: rows.map(toProject), total: this.s.projectCount!.pluck().get(filter) as number };
  }

  projectUpdate(
    id: number,
    patch: { public?: boolean; metadata?: ProjectMetadata; storageLimit?: number },
    at: Date,
  ): Project | undefined {
    const row = this.s.projectUpdate!.get({
      id,
      public: patch.public === undefined ? null : patch.public ? 1 : 0,
      storage_limit: patch.storageLimit ?? null,
      metadata: patch.metadata === undefined ? null : JSON.stringify(patch.metadata),
      at: at.getTime(),
    }) as ProjectRow | undefined;
    return row === undefined ? undefined : toProject(row);
  }

  /** Members and robots go by the foreign keys' cascades. */
  projectDelete(id: number): boolean {
    return this.s.projectDelete!.run(id).changes > 0;
  }

  // ------------------------------------------------------------ members

  memberList(projectId: number, query?: { entityName?: string }): Member[] {
    const rows = this.s.memberList!.all({
      project_id: projectId,
      name: query?.entityName ?? null,
    }) as MemberRow[];
    return rows.map(toMember);
  }

  memberGet(projectId: number, memberId: number): Member | undefined {
    const row = this.s.memberGet!.get(projectId, memberId) as MemberRow | undefined;
    return row === undefined ? undefined : toMember(row);
  }

  memberRoleOf(projectId: number, userId: number): RoleId | undefined {
    return this.s.memberRole!.pluck().get(projectId, userId) as RoleId | undefined;
  }

  /** A missing project or user is a foreign-key error (thrown), not a conflict. */
  memberAdd(projectId: number, userId: number, roleId: RoleId): Created<Member> {
    const id = this.s.memberInsert!.pluck().get(projectId, userId, roleId) as number | undefined;
    const member = id === undefined ? undefined : this.memberGet(projectId, id);
    return member === undefined ? { ok: false, reason: 'conflict' } : { ok: true, value: member };
  }

  memberUpdate(projectId: number, memberId: number, roleId: RoleId): boolean {
    return this.s.memberUpdate!.run(roleId, projectId, memberId).changes > 0;
  }

  memberRemove(projectId: number, memberId: number): boolean {
    return this.s.memberDelete!.run(projectId, memberId).changes > 0;
  }

  // ------------------------------------------------------------ robots

  robotCreate(robot: NewRobot, at: Date): Created<Robot> {
    const row = this.s.robotInsert!.get({
      name: robot.name,
      description: robot.description,
      level: robot.level,
      project_id: robot.projectId ?? null,
      disabled: robot.disabled ? 1 : 0,
      duration: robot.duration,
      expires_at: robot.expiresAt?.getTime() ?? null,
      permissions: JSON.stringify(robot.permissions),
      secret_hash: robot.secretHash,
      at: at.getTime(),
    }) as RobotRow | undefined;
    return row === undefined ? { ok: false, reason: 'conflict' } : { ok: true, value: toRobot(row) };
  }

  robotGet(id: number): Robot | undefined {
    const row = this.s.robotGet!.get(id) as RobotRow | undefined;
    return row === undefined ? undefined : toRobot(row);
  }

  robotGetByName(name: string): Robot | undefined {
    const row = this.s.robotByName!.get(name) as RobotRow | undefined;
    return row === undefined ? undefined : toRobot(row);
  }

  robotSecretHash(id: number): string | undefined {
    return this.s.robotSecret!.pluck().get(id) as string | undefined;
  }

  robotList(
    query: OffsetQuery & { projectId?: number; level?: 'system' | 'project'; q?: string },
  ): Counted<Robot> {
    const filter = { project_id: query.projectId ?? null, level: query.level ?? null, q: query.q ?? null };
    const rows = this.s.robotList!.all({ ...filter, limit: query.limit, offset: query.offset }) as RobotRow[];
    return { items: rows.map(toRobot), total: this.s.robotCount!.pluck().get(filter) as number };
  }

  robotUpdate(id: number, patch: RobotPatch, at: Date): Robot | undefined {
    const row = this.s.robotUpdate!.get({
      id,
      description: patch.description ?? null,
      disabled: patch.disabled === undefined ? null : patch.disabled ? 1 : 0,
      duration: patch.duration ?? null,
      permissions: patch.permissions === undefined ? null : JSON.stringify(patch.permissions),
      secret_hash: patch.secretHash ?? null,
      set_expiry: patch.expiresAt === undefined ? 0 : 1,
      expires_at: patch.expiresAt?.getTime() ?? null,
      at: at.getTime(),
    }) as RobotRow | undefined;
    return row === undefined ? undefined : toRobot(row);
  }

  robotDelete(id: number): boolean {
    return this.s.robotDelete!.run(id).changes > 0;
  }

  // ------------------------------------------------------------ settings

  settingGet(key: string): string | undefined {
    return this.s.settingGet!.pluck().get(key) as string | undefined;
  }

  /** Runs on the writer inside a transaction, so the SELECT sees the row whichever insert made it. */
  settingPutIfAbsent(key: string, value: string): string {
    this.s.settingInsert!.run(key, value);
    return this.s.settingGet!.pluck().get(key) as string;
  }

  settingPut(key: string, value: string): void {
    this.s.settingUpsert!.run(key, value);
  }
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    realname: row.realname,
    comment: row.comment,
    sysadmin: row.sysadmin === 1,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function toProject(row: ProjectRow): Project {
  return {
    id: row.id,
    name: row.name,
    ownerId: row.owner_id,
    public: row.public === 1,
    metadata: JSON.parse(row.metadata) as ProjectMetadata,
    storageLimit: row.storage_limit,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function toMember(row: MemberRow): Member {
  return {
    id: row.id,
    projectId: row.project_id,
    userId: row.user_id,
    username: row.username,
    roleId: row.role_id as RoleId,
  };
}

function toRobot(row: RobotRow): Robot {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    level: row.level,
    ...(row.project_id !== null && { projectId: row.project_id }),
    disabled: row.disabled === 1,
    duration: row.duration,
    ...(row.expires_at !== null && { expiresAt: new Date(row.expires_at) }),
    permissions: JSON.parse(row.permissions) as RobotPermission[],
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
