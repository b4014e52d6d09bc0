import type { AccessService } from '../core/iam/access.js';
import type { ProjectPermission } from '../core/iam/permissions.js';
import { maySystem, type Subject } from '../core/iam/policy.js';
import { isRepositoryName } from '../core/oci/names.js';
import type { AccessScope } from './scope.js';

export type RepositoryAction = 'pull' | 'push' | 'delete';

/** The project permission behind each token action on a repository. */
export const permissionOfAction: Record<RepositoryAction, ProjectPermission> = {
  pull: 'repository:pull',
  push: 'repository:push',
  delete: 'repository:delete',
};

const repositoryActions = Object.keys(permissionOfAction) as RepositoryAction[];

/** What the policy lets the subject do to a repository, in token actions. */
export async function allowedActions(
  access: AccessService,
  subject: Subject,
  repository: string,
): Promise<Set<RepositoryAction>> {
  const permissions = await access.permissionsOnRepository(subject, repository);
  return new Set(repositoryActions.filter((action) => permissions.has(permissionOfAction[action])));
}

/**
 * The access a token gets: the intersection of what was asked and what the policy allows. `*` on a
 * repository asks for every action and is granted as the allowed ones, named. `registry:catalog:*` is for
 * system administrators only. Other types, invalid names and scopes with nothing allowed are left out.
 */
export async function grantScopes(
  access: AccessService,
  subject: Subject,
  requested: readonly AccessScope[],
): Promise<AccessScope[]> {
  const granted: AccessScope[] = [];
  for (const scope of requested) {
    if (scope.type === 'registry') {
      if (scope.name === 'catalog' && scope.actions.includes('*') && maySystem(subject, 'catalog:read')) {
        granted.push({ type: 'registry', name: 'catalog', actions: ['*'] });
      }
      continue;
    }
    if (scope.type !== 'repository' || !isRepositoryName(scope.name)) continue;
    const asked = scope.actions.includes('*')
      ? repositoryActions
      : repositoryActions.filter((action) => scope.actions.includes(action));
    if (asked.length === 0) continue;
    const allowed = await allowedActions(access, subject, scope.name);
    const actions = asked.filter((action) => allowed.has(action));
    if (actions.length > 0) granted.push({ type: 'repository', name: scope.name, actions });
  }
  return granted;
}

/** Whether a token's access covers every one of `actions` on a resource (`*` covers all). */
export function tokenCovers(
  tokenAccess: readonly AccessScope[],
  type: string,
  name: string,
  actions: readonly string[],
): boolean {
  return actions.every((action) =>
    tokenAccess.some(
      (entry) =>
        entry.type === type &&
        entry.name === name &&
        (entry.actions.includes(action) || entry.actions.includes('*')),
    ),
  );
}
