import { CronExpressionParser } from 'cron-parser';
import type { ScheduleType } from '../core/ports.js';

/** Harbor's preset schedules, as six-field crons (seconds first). */
export const presetCrons: Partial<Record<ScheduleType, string>> = {
  Hourly: '0 0 * * * *',
  Daily: '0 0 0 * * *',
  Weekly: '0 0 0 * * 0',
};

/** The cron a schedule runs on, or undefined when it never runs by itself (None, Manual). */
export function cronOf(type: ScheduleType, cron: string | undefined): string | undefined {
  if (type === 'Custom') return cron;
  return presetCrons[type];
}

/** Throws a readable error for an expression cron-parser cannot read. Harbor sends six fields. */
export function validateCron(expression: string): void {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6 && fields.length !== 5)
    throw new Error(`cron "${expression}" must have six fields (seconds first) or five`);
  CronExpressionParser.parse(expression, { tz: 'UTC' });
}

/** The first time strictly after `after` that the expression fires, in UTC. */
export function nextRun(expression: string, after: Date): Date {
  return CronExpressionParser.parse(expression, { currentDate: after, tz: 'UTC' }).next().toDate();
}
