import type { ManifestService } from '../../content/manifests.js';
import { RegistryError } from '../../errors.js';
import { ProjectGuard, type ProjectRef } from '../../iam/guard.js';
import type { Project } from '../../iam/model.js';
import type { ProjectPermission } from '../../iam/permissions.js';
import type { Subject } from '../../iam/policy.js';
import { notFound } from '../../iam/rules.js';
import type {
  Clock,
  Counted,
  MetadataStore,
  OffsetQuery,
  RetentionExecution,
  RetentionTask,
} from '../../ports.js';
import {
  numberRules,
  requireValidPolicy,
  type RetentionPolicy,
  type RetentionRule,
  type StoredRetentionPolicy,
} from './model.js';
import { RetentionRunner } from './runner.js';

/** The project metadata key that links a project to its policy (Harbor's). */
export const retentionIdKey = 'retention_id';

/** Called when a policy's schedule may have changed (created, updated, deleted). */
export type ScheduleHook = (policy: StoredRetentionPolicy | { id: number; deleted: true }) => void;

/** Harbor's `/retentions` use cases: one policy per project, its executions and their tasks. */
export class RetentionService {
  private readonly guard: ProjectGuard;
  readonly runner: RetentionRunner;
  private scheduleHook: ScheduleHook = () => undefined;

  constructor(
    private readonly metadata: MetadataStore,
    manifests: ManifestService,
    private readonly clock: Clock,
    onError?: (error: unknown) => void,
  ) {
    this.guard = new ProjectGuard(metadata, clock);
    this.runner = new RetentionRunner(metadata, manifests, clock, onError);
  }

  /** Lets the job scheduler follow schedule changes. */
  onScheduleChange(hook: ScheduleHook): void {
    this.scheduleHook = hook;
  }

  private async load(
    subject: Subject,
    id: number,
    permission: ProjectPermission,
  ): Promise<{ stored: StoredRetentionPolicy; project: Project }> {
    const stored = await this.metadata.retention.getPolicy(id);
    if (stored === undefined) throw notFound(`retention policy ${id} not found`);
    const project = await this.metadata.projects.get(stored.projectId);
    if (project === undefined) throw notFound(`retention policy ${id} not found`);
    await this.guard.require(subject, project, permission);
    return { stored, project };
  }

  async get(subject: Subject, id: number): Promise<StoredRetentionPolicy> {
    return (await this.load(subject, id, 'tag-retention:read')).stored;
  }

  /** POST `/retentions`: 409 when the project already has a policy. */
  async create(subject: Subject, policy: RetentionPolicy): Promise<StoredRetentionPolicy> {
    const { project } = await this.guard.require(
      subject,
      { by: 'id', id: policy.scope.ref },
      'tag-retention:create',
    );
    requireValidPolicy(policy);
    if ((await this.current(project)) !== undefined) {
      throw new RegistryError('CONFLICT', `project ${project.name} already has a retention policy`);
    }
    return this.insert(project, policy);
  }

  async update(subject: Subject, id: number, policy: RetentionPolicy): Promise<StoredRetentionPolicy> {
    const { stored } = await this.load(subject, id, 'tag-retention:update');
    const next = {
      ...policy,
      scope: { level: 'project' as const, ref: stored.projectId },
      rules: numberRules(policy.rules),
    };
    requireValidPolicy(next);
    await this.metadata.retention.updatePolicy(id, next, this.clock.now());
    const updated = { ...stored, policy: next, updatedAt: this.clock.now() };
    this.scheduleHook(updated);
    return updated;
  }

  async delete(subject: Subject, id: number): Promise<void> {
    const { project } = await this.load(subject, id, 'tag-retention:delete');
    await this.metadata.retention.deletePolicy(id);
    if (project.metadata[retentionIdKey] === String(id)) {
      await this.metadata.projects.update(
        project.id,
        { metadata: { [retentionIdKey]: '' } },
        this.clock.now(),
      );
    }
    this.scheduleHook({ id, deleted: true });
  }

  /**
   * The seed workflow's per-repository call: the project's policy gets `rules` for this one repository
   * (each scoped to it with `repoMatches`), replacing the rules it had for exactly that repository and
   * keeping the others; the policy is created when the project has none.
   */
  async putForRepository(
    subject: Subject,
    ref: ProjectRef,
    repository: string,
    rules: Omit<RetentionRule, 'scope_selectors'>[],
  ): Promise<{ stored: StoredRetentionPolicy; created: boolean }> {
    const project = await this.guard.load(ref);
    const existing = await this.current(project);
    await this.guard.require(subject, project, existing ? 'tag-retention:update' : 'tag-retention:create');
    const scope = { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: repository }] };
    const scoped: RetentionRule[] = rules.map((rule) => ({ ...rule, scope_selectors: scope }));
    const onlyThis = (rule: RetentionRule) =>
      JSON.stringify(rule.scope_selectors.repository) === JSON.stringify(scope.repository);
    if (existing === undefined) {
      const policy: RetentionPolicy = {
        algorithm: 'or',
        rules: numberRules(scoped),
        trigger: { kind: 'Schedule', settings: { cron: '' }, references: {} },
        scope: { level: 'project', ref: project.id },
      };
      requireValidPolicy(policy);
      return { stored: await this.insert(project, policy), created: true };
    }
    const kept = existing.policy.rules.filter((rule) => !onlyThis(rule));
    const policy = {
      ...existing.policy,
      rules: numberRules([...kept, ...scoped.map((r) => ({ ...r, id: 0 }))]),
    };
    requireValidPolicy(policy);
    await this.metadata.retention.updatePolicy(existing.id, policy, this.clock.now());
    return { stored: { ...existing, policy }, created: false };
  }

  private async current(project: Project): Promise<StoredRetentionPolicy | undefined> {
    const id = Number(project.metadata[retentionIdKey]);
    if (!Number.isInteger(id) || id <= 0) return undefined;
    return this.metadata.retention.getPolicy(id);
  }

  private async insert(project: Project, policy: RetentionPolicy): Promise<StoredRetentionPolicy> {
    const stored = await this.metadata.retention.createPolicy(
      project.id,
      { ...policy, rules: numberRules(policy.rules) },
      this.clock.now(),
    );
    await this.metadata.projects.update(
      project.id,
      { metadata: { [retentionIdKey]: String(stored.id) } },
      this.clock.now(),
    );
    this.scheduleHook(stored);
    return stored;
  }

  // ------------------------------------------------------------ executions

  async execute(subject: Subject, id: number, dryRun: boolean): Promise<RetentionExecution> {
    const { stored, project } = await this.load(subject, id, 'tag-retention:operate');
    return this.runner.start(stored, project.name, 'MANUAL', dryRun);
  }

  /**
   * What the job scheduler calls when a policy's cron fires: a real (not dry) run, triggered SCHEDULE.
   * Undefined when the policy or its project is gone.
   */
  async runScheduled(policyId: number): Promise<RetentionExecution | undefined> {
    const stored = await this.metadata.retention.getPolicy(policyId);
    const project = stored && (await this.metadata.projects.get(stored.projectId));
    if (stored === undefined || project === undefined) return undefined;
    return this.runner.start(stored, project.name, 'SCHEDULE', false);
  }

  /** The cron of every policy that has one, for the scheduler to register at start. */
  async schedules(): Promise<{ policyId: number; cron: string }[]> {
    const policies = await this.metadata.retention.listPolicies();
    return policies.flatMap((p) => {
      const cron = p.policy.trigger.settings.cron;
      return cron !== undefined && cron.trim() !== '' ? [{ policyId: p.id, cron }] : [];
    });
  }

  async listExecutions(
    subject: Subject,
    id: number,
    query: OffsetQuery,
  ): Promise<Counted<RetentionExecution>> {
    await this.load(subject, id, 'tag-retention:list');
    return this.metadata.retention.listExecutions(id, query);
  }

  private async execution(subject: Subject, id: number, executionId: number, permission: ProjectPermission) {
    await this.load(subject, id, permission);
    const execution = await this.metadata.retention.getExecution(executionId);
    if (execution === undefined || execution.policyId !== id) {
      throw notFound(`retention execution ${executionId} not found`);
    }
    return execution;
  }

  /** PATCH `{"action":"stop"}`: a running execution becomes Stopped; an ended one stays as it is. */
  async stop(subject: Subject, id: number, executionId: number): Promise<void> {
    await this.execution(subject, id, executionId, 'tag-retention:operate');
    await this.metadata.retention.finishExecution(executionId, 'Stopped', this.clock.now());
  }

  async listTasks(
    subject: Subject,
    id: number,
    executionId: number,
    query: OffsetQuery,
  ): Promise<Counted<RetentionTask>> {
    await this.execution(subject, id, executionId, 'tag-retention:list');
    return this.metadata.retention.listTasks(executionId, query);
  }

  async taskLog(subject: Subject, id: number, executionId: number, taskId: number): Promise<string> {
    await this.execution(subject, id, executionId, 'tag-retention:read');
    const task = await this.metadata.retention.getTask(taskId);
    if (task === undefined || task.executionId !== executionId)
      throw notFound(`retention task ${taskId} not found`);
    return (await this.metadata.retention.taskLog(taskId)) ?? '';
  }
}
