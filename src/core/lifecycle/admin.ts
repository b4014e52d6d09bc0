import { RegistryError } from '../errors.js';
import { requireSystem } from '../iam/guard.js';
import type { Subject } from '../iam/policy.js';
import type {
  Clock,
  Counted,
  JobRun,
  JobSchedule,
  MetadataStore,
  OffsetQuery,
  ScheduleType,
} from '../ports.js';
import type { JobControl } from './jobs.js';

export interface ScheduleInput {
  type: ScheduleType;
  cron?: string;
  parameters: Record<string, unknown>;
}

/**
 * Administration of one job kind (GC, upload purge, ...): history, logs, schedule, manual runs and
 * stops. System administrators only, as Harbor's `/system/gc` is.
 */
export class JobAdminService {
  constructor(
    private readonly kind: string,
    private readonly metadata: MetadataStore,
    private readonly jobs: JobControl,
    private readonly clock: Clock,
  ) {}

  history(subject: Subject, query: OffsetQuery): Promise<Counted<JobRun>> {
    requireSystem(subject, 'system:manage');
    return this.metadata.jobs.listRuns(this.kind, query);
  }

  async run(subject: Subject, id: number): Promise<JobRun> {
    requireSystem(subject, 'system:manage');
    const run = await this.metadata.jobs.getRun(id);
    if (run === undefined || run.kind !== this.kind)
      throw new RegistryError('NOT_FOUND', `run ${id} not found`);
    return run;
  }

  async log(subject: Subject, id: number): Promise<string> {
    await this.run(subject, id);
    return (await this.metadata.jobs.log(id)) ?? '';
  }

  async stop(subject: Subject, id: number): Promise<void> {
    const run = await this.run(subject, id);
    if (run.status !== 'Running' && run.status !== 'Pending')
      throw new RegistryError('PRECONDITION_FAILED', `run ${id} is not running`);
    if (!this.jobs.stop(id)) throw new RegistryError('PRECONDITION_FAILED', `run ${id} runs on another node`);
  }

  async schedule(subject: Subject): Promise<{ schedule: JobSchedule; next?: Date }> {
    requireSystem(subject, 'system:manage');
    const schedule = (await this.jobs.schedule(this.kind)) ?? {
      kind: this.kind,
      type: 'None',
      parameters: {},
      updatedAt: new Date(0),
    };
    const next = this.jobs.nextRun?.(schedule, this.clock.now());
    return { schedule, ...(next !== undefined && { next }) };
  }

  /** Stores the schedule; `Manual` also starts a run now (Harbor's way to run GC once). */
  async setSchedule(subject: Subject, input: ScheduleInput): Promise<JobRun | undefined> {
    requireSystem(subject, 'system:manage');
    if (input.type === 'Custom') {
      if (input.cron === undefined || input.cron === '')
        throw new RegistryError('BAD_REQUEST', 'a Custom schedule needs a cron');
      try {
        this.jobs.validateCron?.(input.cron);
      } catch (error) {
        throw new RegistryError('BAD_REQUEST', `invalid cron: ${(error as Error).message}`);
      }
    }
    if (input.type === 'Manual') return this.trigger(subject, input.parameters);
    await this.jobs.setSchedule({
      kind: this.kind,
      type: input.type,
      ...(input.type === 'Custom' && { cron: input.cron }),
      parameters: input.parameters,
      updatedAt: this.clock.now(),
    });
    return undefined;
  }

  async trigger(subject: Subject, parameters: Record<string, unknown>): Promise<JobRun> {
    requireSystem(subject, 'system:manage');
    const outcome = await this.jobs.trigger(this.kind, 'Manual', parameters);
    if (!outcome.ok) {
      throw outcome.reason === 'running'
        ? new RegistryError('CONFLICT', `a ${this.kind} run is already in progress`)
        : new RegistryError('UNAVAILABLE', `${this.kind} jobs are not available`);
    }
    return outcome.run;
  }
}
