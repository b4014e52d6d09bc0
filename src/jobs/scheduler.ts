import type { Clock, JobRun, JobSchedule, JobTrigger, MetadataStore } from '../core/ports.js';
import { cronOf, nextRun, validateCron } from './cron.js';

export interface JobContext {
  run: JobRun;
  parameters: Record<string, unknown>;
  /** Adds a line to the run's log (kept in the history row). */
  log: (line: string) => void;
  /** Aborted when the run is stopped or the server shuts down. */
  signal: AbortSignal;
}

export interface JobDefinition {
  kind: string;
  /** Does the work; the object it returns is the run's result JSON. */
  run(ctx: JobContext): Promise<Record<string, unknown>>;
  /** Used while no schedule has been stored for the kind. */
  defaultSchedule?: Omit<JobSchedule, 'kind' | 'updatedAt'>;
}

export type TriggerOutcome =
  | { ok: true; run: JobRun; done: Promise<JobRun | undefined> }
  | { ok: false; reason: 'running' | 'unknown-kind' };

export interface SchedulerOptions {
  /** How often schedules are checked (default 30 s); 0 disables the timer (tests call `tick`). */
  tickMs?: number;
  onError?: (error: unknown, kind: string) => void;
}

const maxLogBytes = 1 << 20;

/**
 * The one scheduler of background work (GC, upload purge, quota recount, ...). Every run leaves a
 * history row. One run per kind at a time, on every node, through `jobs.tryLock` (in-process on SQLite,
 * an advisory lock on PostgreSQL). A cron firing is claimed in the database first, so with several
 * nodes exactly one of them runs it. Runs left Running by a process that died are marked Interrupted
 * when the scheduler starts (it takes the kind's lock first, so a run alive on another node is left
 * alone); they can be run again like any other.
 */
export class Scheduler {
  private readonly jobs = new Map<string, JobDefinition>();
  private readonly running = new Map<number, AbortController>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly nextFire = new Map<string, { cron: string; at: Date }>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
    private readonly options: SchedulerOptions = {},
  ) {}

  register(job: JobDefinition): void {
    this.jobs.set(job.kind, job);
  }

  kinds(): string[] {
    return [...this.jobs.keys()];
  }

  async start(): Promise<void> {
    for (const kind of this.jobs.keys()) await this.recover(kind);
    const tickMs = this.options.tickMs ?? 30_000;
    if (tickMs > 0) {
      this.timer = setInterval(
        () => void this.tick().catch((e: unknown) => this.options.onError?.(e, '*')),
        tickMs,
      );
      this.timer.unref();
    }
  }

  /** Marks the kind's dead runs Interrupted, if no live run holds the kind. */
  async recover(kind: string): Promise<number> {
    const lease = await this.metadata.jobs.tryLock(kind);
    if (lease === undefined) return 0;
    try {
      return await this.metadata.jobs.interruptRuns(kind, this.clock.now());
    } finally {
      await lease.release();
    }
  }

  async schedule(kind: string): Promise<JobSchedule | undefined> {
    const stored = await this.metadata.jobs.getSchedule(kind);
    if (stored !== undefined) return stored;
    const fallback = this.jobs.get(kind)?.defaultSchedule;
    return fallback === undefined ? undefined : { kind, ...fallback, updatedAt: new Date(0) };
  }

  async setSchedule(schedule: JobSchedule): Promise<void> {
    await this.metadata.jobs.putSchedule(schedule);
    this.nextFire.delete(schedule.kind);
  }

  validateCron(cron: string): void {
    validateCron(cron);
  }

  nextRun(schedule: JobSchedule, after: Date): Date | undefined {
    const cron = cronOf(schedule.type, schedule.cron);
    return cron === undefined ? undefined : nextRun(cron, after);
  }

  /** Starts every scheduled run that is due. */
  async tick(): Promise<JobRun[]> {
    const started: JobRun[] = [];
    const now = this.clock.now();
    for (const kind of this.jobs.keys()) {
      const schedule = await this.schedule(kind);
      const cron = schedule === undefined ? undefined : cronOf(schedule.type, schedule.cron);
      if (schedule === undefined || cron === undefined) {
        this.nextFire.delete(kind);
        continue;
      }
      let next = this.nextFire.get(kind);
      if (next === undefined || next.cron !== cron) {
        next = { cron, at: nextRun(cron, now) };
        this.nextFire.set(kind, next);
      }
      if (now.getTime() < next.at.getTime()) continue;
      const fireAt = next.at;
      this.nextFire.set(kind, { cron, at: nextRun(cron, now) });
      if (!(await this.metadata.jobs.claimFire(kind, fireAt))) continue; // another node took it
      const outcome = await this.trigger(kind, 'Schedule', schedule.parameters);
      if (outcome.ok) started.push(outcome.run);
    }
    return started;
  }

  /** Starts a run now, unless one of the kind is running. */
  async trigger(
    kind: string,
    trigger: JobTrigger,
    parameters: Record<string, unknown>,
  ): Promise<TriggerOutcome> {
    const job = this.jobs.get(kind);
    if (job === undefined || this.closed) return { ok: false, reason: 'unknown-kind' };
    const lease = await this.metadata.jobs.tryLock(kind);
    if (lease === undefined) return { ok: false, reason: 'running' };
    let run: JobRun;
    try {
      run = await this.metadata.jobs.createRun({
        kind,
        trigger,
        status: 'Running',
        parameters,
        at: this.clock.now(),
      });
    } catch (error) {
      await lease.release();
      throw error;
    }
    const controller = new AbortController();
    this.running.set(run.id, controller);
    const done = this.execute(job, run, controller).finally(async () => {
      this.running.delete(run.id);
      await lease.release();
    });
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done)).catch(() => undefined);
    return { ok: true, run, done };
  }

  /** Asks a run of this process to stop; false when it is not running here. */
  stop(id: number): boolean {
    const controller = this.running.get(id);
    if (controller === undefined) return false;
    controller.abort(new StopRequested());
    return true;
  }

  /** Stops the timer, aborts running jobs (they end Interrupted) and waits for them. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const controller of this.running.values()) controller.abort(new ShuttingDown());
    await Promise.allSettled([...this.inflight]);
  }

  /** Waits for the runs in flight. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  private async execute(
    job: JobDefinition,
    run: JobRun,
    controller: AbortController,
  ): Promise<JobRun | undefined> {
    const jobs = this.metadata.jobs;
    let pending = '';
    let written = 0;
    const flush = async () => {
      if (pending === '') return;
      const text = pending;
      pending = '';
      await jobs.appendLog(run.id, text);
    };
    const log = (line: string) => {
      const entry = `${this.clock.now().toISOString()} ${line}\n`;
      if (written + entry.length > maxLogBytes) {
        if (written <= maxLogBytes) pending += '... log truncated\n';
        written = maxLogBytes + 1;
        return;
      }
      written += entry.length;
      pending += entry;
    };
    const flusher = setInterval(() => void flush().catch(() => undefined), 1000);
    flusher.unref();
    try {
      const result = await job.run({ run, parameters: run.parameters, log, signal: controller.signal });
      clearInterval(flusher);
      await flush();
      await jobs.updateRun(
        run.id,
        { status: 'Success', result, endedAt: this.clock.now() },
        this.clock.now(),
      );
    } catch (error) {
      clearInterval(flusher);
      const reason = controller.signal.aborted ? (controller.signal.reason as unknown) : error;
      const status =
        reason instanceof StopRequested
          ? 'Stopped'
          : reason instanceof ShuttingDown
            ? 'Interrupted'
            : 'Error';
      log(status === 'Error' ? `failed: ${(error as Error).message}` : `${status.toLowerCase()}`);
      await flush().catch(() => undefined);
      await jobs
        .updateRun(
          run.id,
          { status, result: { error: (error as Error).message }, endedAt: this.clock.now() },
          this.clock.now(),
        )
        .catch(() => undefined);
      if (status === 'Error') this.options.onError?.(error, job.kind);
    }
    return jobs.getRun(run.id);
  }
}

class StopRequested extends Error {
  constructor() {
    super('stopped on request');
  }
}

class ShuttingDown extends Error {
  constructor() {
    super('the server is shutting down');
  }
}
