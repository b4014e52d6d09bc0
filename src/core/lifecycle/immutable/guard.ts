import type { TagGuard } from '../../content/manifests.js';
import { RegistryError } from '../../errors.js';
import { projectOfRepository } from '../../iam/policy.js';
import type { Digest } from '../../oci/digest.js';
import type { Reference } from '../../oci/names.js';
import type { MetadataScope } from '../../ports.js';
import { describeRule, protectingRule, type ImmutableRule } from './model.js';

/** The project's immutable rules and the repository's name below the project, if it has a project. */
async function rulesOf(
  scope: MetadataScope,
  repository: string,
): Promise<{ rules: ImmutableRule[]; name: string } | undefined> {
  const projectName = projectOfRepository(repository);
  if (projectName === undefined) return undefined;
  const project = await scope.projects.getByName(projectName);
  if (project === undefined) return undefined;
  const rules = await scope.immutableRules.list(project.id);
  return rules.length === 0 ? undefined : { rules, name: repository.slice(projectName.length + 1) };
}

function refuse(repository: string, tag: string, rule: ImmutableRule, what: string): RegistryError {
  return new RegistryError(
    'DENIED',
    `the tag ${tag} of ${repository} is immutable and cannot be ${what}: ${describeRule(rule)}`,
    { tag, rule: rule.id },
  );
}

/** The first of `tags` an immutable rule protects, with the rule. */
export async function protectedTag(
  scope: MetadataScope,
  repository: string,
  tags: readonly string[],
): Promise<{ tag: string; rule: ImmutableRule } | undefined> {
  if (tags.length === 0) return undefined;
  const found = await rulesOf(scope, repository);
  if (found === undefined) return undefined;
  for (const tag of tags) {
    const rule = protectingRule(found.rules, found.name, tag);
    if (rule !== undefined) return { tag, rule };
  }
  return undefined;
}

/**
 * Refuses, with DENIED naming the rule, to move an immutable tag to another manifest (a push of the
 * same content is allowed), and to delete an immutable tag or a manifest that carries one.
 */
export class ImmutableTagGuard implements TagGuard {
  constructor(private readonly metadata: MetadataScope) {}

  async checkPut(tx: MetadataScope, repository: string, digest: Digest, tags: string[]): Promise<void> {
    const moving: string[] = [];
    for (const tag of tags) {
      const current = await tx.tags.resolve(repository, tag);
      if (current !== undefined && current !== digest) moving.push(tag);
    }
    const hit = await protectedTag(tx, repository, moving);
    if (hit !== undefined) throw refuse(repository, hit.tag, hit.rule, 'moved to another artifact');
  }

  async checkDelete(repository: string, reference: Reference): Promise<void> {
    let tags: string[];
    if (reference.kind === 'tag') {
      tags =
        (await this.metadata.tags.resolve(repository, reference.tag)) === undefined ? [] : [reference.tag];
    } else {
      tags = await this.metadata.tags.listFor(repository, reference.digest);
    }
    const hit = await protectedTag(this.metadata, repository, tags);
    if (hit !== undefined) throw refuse(repository, hit.tag, hit.rule, 'deleted');
  }
}
