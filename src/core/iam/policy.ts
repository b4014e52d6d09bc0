import { isExpired, type Project, type Robot, type RoleId, type User } from './model.js';
import { publicProjectPermissions, rolePermissions, type ProjectPermission } from './permissions.js';

/** Who is asking. Resolved from credentials by the auth layer; decided on here. */
export type Subject = { kind: 'anonymous' } | { kind: 'user'; user: User } | { kind: 'robot'; robot: Robot };

export const anonymous: Subject = { kind: 'anonymous' };

/** A project together with the subject's role in it, if the subject is a member. */
export interface ProjectContext {
  project: Project;
  memberRole?: RoleId;
}

/**
 * The one authorization policy of Berth: every `/v2`, `/api` and chart request is decided by these
 * functions, from the subject, the project and its membership. Pure: no I/O, an injected time.
 */
export function projectPermissionsOf(
  subject: Subject,
  context: ProjectContext,
  now: Date,
): Set<ProjectPermission> {
  const granted = new Set<ProjectPermission>(context.project.public ? publicProjectPermissions : []);
  if (subject.kind === 'user') {
    if (subject.user.sysadmin) return new Set(rolePermissions[1]);
    if (context.memberRole !== undefined) for (const p of rolePermissions[context.memberRole]) granted.add(p);
  } else if (subject.kind === 'robot') {
    for (const p of robotPermissionsIn(subject.robot, context.project, now)) granted.add(p);
  }
  return granted;
}

export function may(
  subject: Subject,
  permission: ProjectPermission,
  context: ProjectContext,
  now: Date,
): boolean {
  return projectPermissionsOf(subject, context, now).has(permission);
}

/** A robot's grants in one project: nothing once it is disabled or expired. */
function robotPermissionsIn(robot: Robot, project: Project, now: Date): ProjectPermission[] {
  if (robot.disabled || isExpired(robot, now)) return [];
  if (robot.level === 'project' && robot.projectId !== project.id) return [];
  const granted: ProjectPermission[] = [];
  for (const permission of robot.permissions) {
    if (permission.kind !== 'project') continue;
    if (permission.namespace !== '*' && permission.namespace !== project.name) continue;
    for (const access of permission.access) {
      if (access.effect === 'deny') continue;
      granted.push(...expand(access.resource, access.action));
    }
  }
  return granted;
}

function expand(resource: string, action: string): ProjectPermission[] {
  const all = rolePermissions[1];
  return [...all].filter((p) => {
    const [r, a] = p.split(':') as [string, string];
    return (resource === '*' || resource === r) && (action === '*' || action === a);
  });
}

/** A signed-in person with the system-admin flag. */
export function isSystemAdmin(subject: Subject): boolean {
  return subject.kind === 'user' && subject.user.sysadmin;
}

/** Robots that are disabled or expired cannot authenticate at all. */
export function isActiveRobot(robot: Robot, now: Date): boolean {
  return !robot.disabled && !isExpired(robot, now);
}

/** System-level actions (outside any project). */
export type SystemAction =
  | 'catalog:read'
  | 'project:create'
  | 'project:list'
  | 'user:manage'
  | 'robot:manage-system'
  | 'system:read'
  | 'system:manage';

export function maySystem(subject: Subject, action: SystemAction): boolean {
  if (isSystemAdmin(subject)) return true;
  switch (action) {
    case 'project:list':
    case 'system:read':
      return true; // the list is filtered to what the subject may see
    case 'project:create':
      return subject.kind === 'user';
    default:
      return false;
  }
}

/** A user may read and change their own profile and password; admins anyone's. */
export function mayManageUser(subject: Subject, userId: number): boolean {
  return isSystemAdmin(subject) || (subject.kind === 'user' && subject.user.id === userId);
}

/**
 * The project a repository belongs to: its first path segment (`team/app` and `team/x/app` are `team`'s).
 * A name with one segment belongs to no project, and so can be neither pushed nor pulled (as in Harbor).
 */
export function projectOfRepository(repository: string): string | undefined {
  const slash = repository.indexOf('/');
  return slash === -1 ? undefined : repository.slice(0, slash);
}
