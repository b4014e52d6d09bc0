import { RegistryError } from '../../errors.js';
import { ProjectGuard, type ProjectRef } from '../../iam/guard.js';
import type { ProjectAccess } from '../../iam/guard.js';
import type { Subject } from '../../iam/policy.js';
import { badRequest, notFound } from '../../iam/rules.js';
import type { Clock, Counted, MetadataStore, OffsetQuery } from '../../ports.js';
import {
  maxImmutableRules,
  requireValidImmutableRule,
  sameSelection,
  type ImmutableRule,
  type ImmutableRuleSpec,
} from './model.js';

/** Harbor's `/projects/{p}/immutabletagrules`: list, create, update and delete a project's rules. */
export class ImmutableRuleService {
  private readonly guard: ProjectGuard;

  constructor(
    private readonly metadata: MetadataStore,
    clock: Clock,
  ) {
    this.guard = new ProjectGuard(metadata, clock);
  }

  async list(
    subject: Subject,
    ref: ProjectRef,
    query: OffsetQuery,
  ): Promise<{ access: ProjectAccess; page: Counted<ImmutableRule> }> {
    const access = await this.guard.require(subject, ref, 'immutable-tag:list');
    const rules = await this.metadata.immutableRules.list(access.project.id);
    return {
      access,
      page: { items: rules.slice(query.offset, query.offset + query.limit), total: rules.length },
    };
  }

  /** 409 when another rule selects the same repositories and tags; at most 15 rules per project. */
  async create(subject: Subject, ref: ProjectRef, spec: ImmutableRuleSpec): Promise<ImmutableRule> {
    const { project } = await this.guard.require(subject, ref, 'immutable-tag:create');
    requireValidImmutableRule(spec);
    const rules = await this.metadata.immutableRules.list(project.id);
    if (rules.length >= maxImmutableRules) {
      throw badRequest(`a project has at most ${maxImmutableRules} immutable tag rules`);
    }
    if (rules.some((rule) => sameSelection(rule, spec))) {
      throw new RegistryError('CONFLICT', 'an immutable tag rule with the same selectors already exists');
    }
    return this.metadata.immutableRules.create(project.id, spec);
  }

  /** PUT: the whole rule, or (Harbor's UI) just `disabled` on top of the stored rule. */
  async update(
    subject: Subject,
    ref: ProjectRef,
    id: number,
    patch: Partial<ImmutableRuleSpec>,
  ): Promise<void> {
    const { project } = await this.guard.require(subject, ref, 'immutable-tag:update');
    const current = await this.metadata.immutableRules.get(project.id, id);
    if (current === undefined) throw notFound(`immutable tag rule ${id} not found`);
    const next: ImmutableRuleSpec = { ...specOf(current), ...patch };
    requireValidImmutableRule(next);
    const others = await this.metadata.immutableRules.list(project.id);
    if (others.some((rule) => rule.id !== id && sameSelection(rule, next))) {
      throw new RegistryError('CONFLICT', 'an immutable tag rule with the same selectors already exists');
    }
    await this.metadata.immutableRules.update(project.id, id, next);
  }

  async delete(subject: Subject, ref: ProjectRef, id: number): Promise<void> {
    const { project } = await this.guard.require(subject, ref, 'immutable-tag:delete');
    if (!(await this.metadata.immutableRules.delete(project.id, id))) {
      throw notFound(`immutable tag rule ${id} not found`);
    }
  }
}

function specOf(rule: ImmutableRule): ImmutableRuleSpec {
  const spec: Partial<ImmutableRule> = { ...rule };
  delete spec.id;
  delete spec.projectId;
  return spec as ImmutableRuleSpec;
}
