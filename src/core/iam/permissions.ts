import type { RoleId } from './model.js';

/**
 * Project-scoped permissions as Harbor names them (`resource:action`), and what each role grants. The
 * matrix follows Harbor's rbac roles: Limited Guest and Guest pull, Developer also pushes, Maintainer
 * also deletes artifacts and tags and manages policies, Project Admin also manages members, robots and
 * the project's settings.
 */
export const projectPermissions = [
  'project:read',
  'project:update',
  'project:delete',
  'metadata:read',
  'metadata:create',
  'metadata:update',
  'metadata:delete',
  'member:read',
  'member:list',
  'member:create',
  'member:update',
  'member:delete',
  'repository:pull',
  'repository:push',
  'repository:delete',
  'repository:list',
  'repository:read',
  'repository:update',
  'artifact:read',
  'artifact:list',
  'artifact:create',
  'artifact:delete',
  'artifact-addition:read',
  'tag:list',
  'tag:create',
  'tag:delete',
  'robot:read',
  'robot:list',
  'robot:create',
  'robot:update',
  'robot:delete',
  'quota:read',
  'immutable-tag:list',
  'immutable-tag:create',
  'immutable-tag:update',
  'immutable-tag:delete',
  'tag-retention:read',
  'tag-retention:list',
  'tag-retention:create',
  'tag-retention:update',
  'tag-retention:delete',
  'tag-retention:operate',
  'scan:read',
  'scan:create',
  'scan:stop',
  'helm-chart:read',
  'helm-chart:list',
  'helm-chart:create',
  'helm-chart:delete',
  'log:list',
] as const;

export type ProjectPermission = (typeof projectPermissions)[number];

const limitedGuest: ProjectPermission[] = [
  'project:read',
  'metadata:read',
  'repository:pull',
  'repository:list',
  'repository:read',
  'artifact:read',
  'artifact:list',
  'artifact-addition:read',
  'tag:list',
  'quota:read',
  'scan:read',
  'helm-chart:read',
  'helm-chart:list',
];

const guest: ProjectPermission[] = [
  ...limitedGuest,
  'member:read',
  'member:list',
  'robot:read',
  'robot:list',
  'immutable-tag:list',
  'tag-retention:read',
  'tag-retention:list',
  'log:list',
];

const developer: ProjectPermission[] = [
  ...guest,
  'repository:push',
  'repository:update',
  'artifact:create',
  'tag:create',
  'scan:create',
  'helm-chart:create',
];

const maintainer: ProjectPermission[] = [
  ...developer,
  'repository:delete',
  'artifact:delete',
  'tag:delete',
  'immutable-tag:create',
  'immutable-tag:update',
  'immutable-tag:delete',
  'tag-retention:create',
  'tag-retention:update',
  'tag-retention:delete',
  'tag-retention:operate',
  'scan:stop',
  'helm-chart:delete',
];

const projectAdmin: ProjectPermission[] = [...projectPermissions];

export const rolePermissions: Record<RoleId, ReadonlySet<ProjectPermission>> = {
  1: new Set(projectAdmin),
  2: new Set(developer),
  3: new Set(guest),
  4: new Set(maintainer),
  5: new Set(limitedGuest),
};

/** What anyone, signed in or not, may do in a public project. */
export const publicProjectPermissions: ReadonlySet<ProjectPermission> = new Set<ProjectPermission>([
  'project:read',
  'metadata:read',
  'repository:pull',
  'repository:list',
  'repository:read',
  'artifact:read',
  'artifact:list',
  'artifact-addition:read',
  'tag:list',
  'helm-chart:read',
  'helm-chart:list',
]);

export function isProjectPermission(value: string): value is ProjectPermission {
  return (projectPermissions as readonly string[]).includes(value);
}
