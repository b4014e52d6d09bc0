import type { JobRun, JobSchedule, JobTrigger } from '../ports.js';

/** What the edges (API, CLI) may ask of the job scheduler (src/jobs/scheduler.ts implements it). */
export interface JobControl {
  trigger(
    kind: string,
    trigger: JobTrigger,
    parameters: Record<string, unknown>,
  ): Promise<{ ok: true; run: JobRun } | { ok: false; reason: 'running' | 'unknown-kind' }>;
  /** Asks a run of this process to stop; false when it does not run here. */
  stop(id: number): boolean;
  schedule(kind: string): Promise<JobSchedule | undefined>;
  setSchedule(schedule: JobSchedule): Promise<void>;
  /** When the schedule fires next, if it runs by itself. */
  nextRun?(schedule: JobSchedule, after: Date): Date | undefined;
  /** Throws a readable error for a cron expression the scheduler cannot run. */
  validateCron?(cron: string): void;
}
