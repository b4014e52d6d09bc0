import { ArtifactDeleter } from '../../content/artifact-deleter.js';
import type { ManifestService } from '../../content/manifests.js';
import { isRegistryError } from '../../errors.js';
import { indexTypes } from '../../oci/media-types.js';
import type { Clock, MetadataStore, RetentionExecution, RetentionStatus } from '../../ports.js';
import { candidatesOf } from './candidates.js';
import { evaluateRepository, type RetentionDecision } from './evaluator.js';
import { formatTaskLog, type Failures } from './log.js';
import type { StoredRetentionPolicy } from './model.js';

const page = 500;

/**
 * Runs retention executions: one task per repository that a rule selects, each evaluated purely and then,
 * unless it is a dry run, carried out through the artifact deletion use case. Executions run in the
 * background; their progress and outcome are rows, so any node can report them and a stop (a status
 * change) is seen between repositories and between deletions, on every node.
 */
export class RetentionRunner {
  private readonly deleter: ArtifactDeleter;
  private readonly running = new Map<number, Promise<void>>();

  constructor(
    private readonly metadata: MetadataStore,
    manifests: ManifestService,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    this.deleter = new ArtifactDeleter(manifests, metadata);
  }

  /** Records a running execution and starts it in the background. */
  async start(
    stored: StoredRetentionPolicy,
    projectName: string,
    trigger: 'MANUAL' | 'SCHEDULE',
    dryRun: boolean,
  ): Promise<RetentionExecution> {
    const execution = await this.metadata.retention.createExecution({
      policyId: stored.id,
      status: 'Running',
      trigger,
      dryRun,
      startTime: this.clock.now(),
    });
    const run = this.run(execution, stored, projectName)
      .catch(async (error: unknown) => {
        this.onError(error);
        await this.metadata.retention.finishExecution(execution.id, 'Error', this.clock.now());
      })
      .catch(this.onError)
      .finally(() => this.running.delete(execution.id));
    this.running.set(execution.id, run);
    return execution;
  }

  /** Resolves when no execution started here is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  /** Resolves when the execution, if it runs here, has ended. */
  async finished(executionId: number): Promise<void> {
    await this.running.get(executionId);
  }

  private async stopped(executionId: number): Promise<boolean> {
    return (await this.metadata.retention.getExecution(executionId))?.status !== 'Running';
  }

  private async run(
    execution: RetentionExecution,
    stored: StoredRetentionPolicy,
    project: string,
  ): Promise<void> {
    const rules = await this.metadata.immutableRules.list(stored.projectId);
    let failed = false;
    for (let offset = 0; ; offset += page) {
      const repos = await this.metadata.repositories.listInProject(project, { offset, limit: page });
      for (const repo of repos.items) {
        if (await this.stopped(execution.id)) return;
        const name = repo.name.slice(project.length + 1);
        const candidates = candidatesOf(await this.metadata.retention.artifacts(repo.name), name, rules);
        const now = this.clock.now();
        const decisions = evaluateRepository(stored.policy, name, candidates, now);
        if (decisions === undefined) continue;
        if (!(await this.runTask(execution, repo.name, decisions, now))) failed = true;
      }
      if (repos.items.length < page) break;
    }
    await this.metadata.retention.finishExecution(
      execution.id,
      failed ? 'Error' : 'Success',
      this.clock.now(),
    );
  }

  /** One repository: deletes what the decisions say (indexes before what they reference) and logs it. */
  private async runTask(
    execution: RetentionExecution,
    repository: string,
    decisions: RetentionDecision[],
    now: Date,
  ): Promise<boolean> {
    const task = await this.metadata.retention.createTask({
      executionId: execution.id,
      repository,
      status: 'Running',
      startTime: now,
      total: decisions.length,
      retained: 0,
    });
    const failures: Failures = new Map();
    let stopped = false;
    if (!execution.dryRun) {
      const doomed = [];
      for (const d of decisions) {
        if (d.action !== 'DEL') continue;
        const record = await this.metadata.manifests.get(repository, d.candidate.digest);
        if (record !== undefined) doomed.push(record);
      }
      doomed.sort((a, b) => Number(indexTypes.has(b.mediaType)) - Number(indexTypes.has(a.mediaType)));
      for (const record of doomed) {
        if (await this.stopped(execution.id)) {
          stopped = true;
          break;
        }
        try {
          if ((await this.metadata.manifests.get(repository, record.digest)) === undefined) continue;
          await this.deleter.delete(repository, record);
        } catch (error) {
          if (!isRegistryError(error)) throw error;
          failures.set(record.digest, error.message);
        }
      }
    }
    const deleted = decisions.filter((d) => d.action === 'DEL' && !failures.has(d.candidate.digest)).length;
    const status: RetentionStatus = stopped ? 'Stopped' : failures.size > 0 ? 'Error' : 'Success';
    await this.metadata.retention.updateTask(task.id, {
      status,
      endTime: this.clock.now(),
      total: decisions.length,
      retained: decisions.length - deleted,
      log: formatTaskLog(repository, execution.dryRun, now, decisions, failures),
    });
    return failures.size === 0;
  }
}
