/** The people and machines that use Berth, and the projects they work in (Harbor's model). */

export interface User {
  id: number;
  username: string;
  email: string;
  realname: string;
  comment: string;
  sysadmin: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** Harbor's project roles, with Harbor's ids (API field `role_id`). */
export const roles = {
  projectAdmin: 1,
  developer: 2,
  guest: 3,
  maintainer: 4,
  limitedGuest: 5,
} as const;

export type RoleId = (typeof roles)[keyof typeof roles];

export const roleNames: Record<RoleId, string> = {
  1: 'projectAdmin',
  2: 'developer',
  3: 'guest',
  4: 'maintainer',
  5: 'limitedGuest',
};

export function isRoleId(value: unknown): value is RoleId {
  return value === 1 || value === 2 || value === 3 || value === 4 || value === 5;
}

/** Project settings Harbor keeps as string-valued metadata (`"true"`/`"false"` and numbers as text). */
export type ProjectMetadata = Record<string, string>;

export interface Project {
  id: number;
  name: string;
  ownerId: number;
  /** `public` lives in `metadata.public` in Harbor's API; kept as a column because every pull reads it. */
  public: boolean;
  metadata: ProjectMetadata;
  /** Storage quota in bytes; -1 is unlimited. */
  storageLimit: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface Member {
  id: number;
  projectId: number;
  userId: number;
  username: string;
  roleId: RoleId;
}

/** One grant of a robot: `resource:action` inside the projects `namespace` names (`*` for all). */
export interface RobotPermission {
  kind: 'project' | 'system';
  namespace: string;
  access: { resource: string; action: string; effect?: 'allow' | 'deny' }[];
}

export interface Robot {
  id: number;
  /** Full name as used to log in: `robot$<name>` (system) or `robot$<project>+<name>` (project). */
  name: string;
  description: string;
  level: 'system' | 'project';
  /** The project of a project-level robot. */
  projectId?: number;
  disabled: boolean;
  /** Days of validity at creation; -1 never expires. */
  duration: number;
  /** Undefined when it never expires. */
  expiresAt?: Date;
  permissions: RobotPermission[];
  createdAt: Date;
  updatedAt: Date;
}

/** The prefix Harbor gives robot account names. */
export const robotPrefix = 'robot$';

export function robotFullName(level: 'system' | 'project', name: string, project?: string): string {
  return level === 'project' ? `${robotPrefix}${project}+${name}` : `${robotPrefix}${name}`;
}

export function isExpired(robot: Robot, now: Date): boolean {
  return robot.expiresAt !== undefined && robot.expiresAt.getTime() <= now.getTime();
}
