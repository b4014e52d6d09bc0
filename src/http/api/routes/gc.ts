import { z } from 'zod';
import type { JobAdminService } from '../../../core/lifecycle/admin.js';
import type { JobRun, JobSchedule } from '../../../core/ports.js';
import { offsetOf, paged, pagedHeaders, pagingFields } from '../paging.js';
import { route, type Route } from '../router.js';
import { errorsSchema } from '../schemas.js';
import { created, idParam, ok } from './common.js';

const historySchema = z.object({
  id: z.number(),
  job_name: z.string(),
  job_kind: z.string(),
  job_parameters: z.string(),
  job_status: z.string(),
  deleted: z.boolean(),
  creation_time: z.string(),
  update_time: z.string(),
  result: z.record(z.string(), z.unknown()).optional(),
});

const scheduleBody = z.object({
  schedule: z
    .object({
      type: z.enum(['Manual', 'Hourly', 'Daily', 'Weekly', 'Custom', 'None', 'Schedule']),
      cron: z.string().max(200).optional(),
    })
    .optional(),
  parameters: z
    .object({
      delete_untagged: z.boolean().optional(),
      dry_run: z.boolean().optional(),
      workers: z.number().int().min(1).max(10).optional(),
    })
    .loose()
    .optional(),
});

const scheduleSchema = z.object({
  schedule: z.object({ type: z.string(), cron: z.string(), next_scheduled_time: z.string().optional() }),
  parameters: z.record(z.string(), z.unknown()),
  update_time: z.string(),
});

const params = z.object({ gc_id: idParam });
const notFound = { description: 'Not found', schema: errorsSchema };

/** Harbor's `/system/gc`: garbage collection history, logs, schedule and manual runs (system admins). */
export function gcRoutes(admin: JobAdminService): Route[] {
  return [
    route({
      method: 'GET',
      path: '/system/gc',
      operationId: 'getGCHistory',
      summary: 'Garbage collection runs, newest first',
      tag: 'gc',
      query: z.object({ ...pagingFields }),
      responses: { 200: { description: 'The runs', schema: z.array(historySchema), headers: pagedHeaders } },
      handler: async ({ subject, query, url }) =>
        paged(url, query, await admin.history(subject, offsetOf(query)), historyJson),
    }),
    route({
      method: 'GET',
      path: '/system/gc/schedule',
      operationId: 'getGCSchedule',
      summary: 'The garbage collection schedule',
      tag: 'gc',
      responses: { 200: { description: 'The schedule', schema: scheduleSchema } },
      handler: async ({ subject }) => {
        const { schedule, next } = await admin.schedule(subject);
        return { status: 200, body: scheduleJson(schedule, next) };
      },
    }),
    route({
      method: 'POST',
      path: '/system/gc/schedule',
      operationId: 'createGCSchedule',
      summary: 'Run garbage collection now (type Manual) or set its schedule',
      tag: 'gc',
      body: scheduleBody,
      responses: {
        201: { description: 'Started or scheduled', headers: { Location: 'The URL of the run' } },
        409: { description: 'A run is in progress', schema: errorsSchema },
      },
      handler: async ({ subject, body }) => {
        const run = await admin.setSchedule(subject, inputOf(body));
        return created(run === undefined ? '/api/v2.0/system/gc/schedule' : `/api/v2.0/system/gc/${run.id}`);
      },
    }),
    route({
      method: 'PUT',
      path: '/system/gc/schedule',
      operationId: 'updateGCSchedule',
      summary: 'Change the garbage collection schedule',
      tag: 'gc',
      body: scheduleBody,
      responses: { 200: { description: 'Updated' } },
      handler: async ({ subject, body }) => {
        await admin.setSchedule(subject, inputOf(body));
        return ok;
      },
    }),
    route({
      method: 'GET',
      path: '/system/gc/{gc_id}',
      operationId: 'getGC',
      summary: 'One garbage collection run',
      tag: 'gc',
      params,
      responses: { 200: { description: 'The run', schema: historySchema }, 404: notFound },
      handler: async ({ subject, params: p }) => ({
        status: 200,
        body: historyJson(await admin.run(subject, p.gc_id)),
      }),
    }),
    route({
      method: 'PUT',
      path: '/system/gc/{gc_id}',
      operationId: 'stopGC',
      summary: 'Stop a garbage collection run',
      tag: 'gc',
      params,
      responses: { 200: { description: 'Stopping' }, 404: notFound },
      handler: async ({ subject, params: p }) => {
        await admin.stop(subject, p.gc_id);
        return ok;
      },
    }),
    route({
      method: 'GET',
      path: '/system/gc/{gc_id}/log',
      operationId: 'getGCLog',
      summary: 'The log of a garbage collection run',
      tag: 'gc',
      params,
      responses: { 200: { description: 'The log, as text' }, 404: notFound },
      handler: async ({ subject, params: p }) => ({
        status: 200,
        text: await admin.log(subject, p.gc_id),
        contentType: 'text/plain; charset=utf-8',
      }),
    }),
  ];
}

function inputOf(body: z.infer<typeof scheduleBody>) {
  const type = body.schedule?.type ?? 'Manual';
  return {
    type: type === 'Schedule' ? ('Custom' as const) : type,
    ...(body.schedule?.cron !== undefined && { cron: body.schedule.cron }),
    parameters: { ...(body.parameters ?? {}) },
  };
}

function historyJson(run: JobRun): z.infer<typeof historySchema> {
  return {
    id: run.id,
    job_name: 'GARBAGE_COLLECTION',
    job_kind: run.trigger === 'Manual' ? 'MANUAL' : 'SCHEDULE',
    job_parameters: JSON.stringify(run.parameters),
    job_status: run.status,
    deleted: false,
    creation_time: run.createdAt.toISOString(),
    update_time: run.updatedAt.toISOString(),
    ...(run.result !== undefined && { result: run.result }),
  };
}

function scheduleJson(schedule: JobSchedule, next: Date | undefined): z.infer<typeof scheduleSchema> {
  return {
    schedule: {
      type: schedule.type,
      cron: schedule.cron ?? '',
      ...(next !== undefined && { next_scheduled_time: next.toISOString() }),
    },
    parameters: schedule.parameters,
    update_time: schedule.updatedAt.toISOString(),
  };
}
