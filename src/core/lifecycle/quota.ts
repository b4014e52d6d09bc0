import { RegistryError } from '../errors.js';
import { projectOfRepository } from '../iam/policy.js';
import type { MetadataScope } from '../ports.js';

/** Bytes as people read them: `512 B`, `1.5 KiB`, `1.2 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${bytes} B`;
  const shown = value >= 100 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${units[unit]}`;
}

/**
 * Refuses the commit when the project's storage, counted after this transaction's links, exceeds its
 * limit. Runs inside the manifest commit, after the manifest is linked and before the commit ends, so a
 * refused push moves no tag; on PostgreSQL the usage row stays locked until the commit, so two pushes
 * into one project cannot both pass on the same figure.
 */
export async function enforceQuota(tx: MetadataScope, repository: string): Promise<void> {
  const projectName = projectOfRepository(repository);
  if (projectName === undefined) return;
  const project = await tx.projects.getByName(projectName);
  if (project === undefined || project.storageLimit < 0) return;
  const used = await tx.quotas.usage(projectName);
  if (used > project.storageLimit) {
    throw new RegistryError(
      'DENIED',
      `quota exceeded: used ${formatBytes(used)} of ${formatBytes(project.storageLimit)}`,
      { project: projectName, used, limit: project.storageLimit },
    );
  }
}
