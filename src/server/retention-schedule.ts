import type { RetentionService } from '../core/lifecycle/retention/service.js';
import type { Clock } from '../core/ports.js';
import type { Scheduler } from '../jobs/scheduler.js';

/** The job kind of one policy's cron: the scheduler keeps one schedule per kind. */
export function retentionJobKind(policyId: number): string {
  return `retention:${policyId}`;
}

/**
 * Puts tag retention under the one job scheduler: a job kind per policy (`retention:<id>`) whose run starts
 * a SCHEDULE execution (`RetentionService.runScheduled`) and waits for it; its schedule follows the
 * policy's `trigger.settings.cron` (Custom) and is set to None when the cron is cleared or the policy is
 * deleted. Call once at start, after the scheduler is built and before `scheduler.start()`.
 */
export async function registerRetentionSchedules(
  scheduler: Scheduler,
  retention: RetentionService,
  clock: Clock,
  onError: (error: unknown) => void = () => undefined,
): Promise<void> {
  const register = (policyId: number) =>
    scheduler.register({
      kind: retentionJobKind(policyId),
      run: async () => {
        const execution = await retention.runScheduled(policyId);
        if (execution === undefined) return { skipped: 'the policy no longer exists' };
        await retention.runner.finished(execution.id);
        return { execution_id: execution.id };
      },
    });
  const apply = async (policyId: number, cron: string | undefined) => {
    register(policyId);
    const custom = cron !== undefined && cron.trim() !== '';
    await scheduler.setSchedule({
      kind: retentionJobKind(policyId),
      type: custom ? 'Custom' : 'None',
      ...(custom && { cron }),
      parameters: { policy_id: policyId },
      updatedAt: clock.now(),
    });
  };
  for (const { policyId, cron } of await retention.schedules()) await apply(policyId, cron);
  retention.onScheduleChange((change) => {
    const cron = 'deleted' in change ? undefined : change.policy.trigger.settings.cron;
    apply(change.id, cron).catch(onError);
  });
}
