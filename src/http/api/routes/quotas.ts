import { z } from 'zod';
import type { Quota, QuotaService } from '../../../core/lifecycle/quotas.js';
import { offsetOf, paged, pagedHeaders, pagingFields } from '../paging.js';
import { route, type Route } from '../router.js';
import { errorsSchema } from '../schemas.js';
import { idParam, ok } from './common.js';

const quotaSchema = z.object({
  id: z.number(),
  ref: z.object({ id: z.number(), name: z.string(), owner_name: z.string().optional() }),
  hard: z.object({ storage: z.number() }),
  used: z.object({ storage: z.number() }),
  creation_time: z.string(),
  update_time: z.string(),
});

const params = z.object({ id: idParam });
const notFound = { description: 'Not found', schema: errorsSchema };

/** Harbor's `/quotas`: one storage quota per project (its id is the project's), system admins only. */
export function quotaRoutes(quotas: QuotaService): Route[] {
  return [
    route({
      method: 'GET',
      path: '/quotas',
      operationId: 'listQuotas',
      summary: 'Storage quotas of projects, with their usage',
      tag: 'quota',
      query: z.object({
        reference: z.enum(['project']).optional(),
        reference_id: z
          .string()
          .regex(/^[0-9]{1,15}$/)
          .optional(),
        ...pagingFields,
      }),
      responses: { 200: { description: 'The quotas', schema: z.array(quotaSchema), headers: pagedHeaders } },
      handler: async ({ subject, query, url }) => {
        const page = await quotas.list(subject, {
          ...offsetOf(query),
          ...(query.reference_id !== undefined && { projectId: Number(query.reference_id) }),
        });
        return paged(url, query, page, quotaJson);
      },
    }),
    route({
      method: 'GET',
      path: '/quotas/{id}',
      operationId: 'getQuota',
      summary: 'One storage quota',
      tag: 'quota',
      params,
      responses: { 200: { description: 'The quota', schema: quotaSchema }, 404: notFound },
      handler: async ({ subject, params: p }) => ({
        status: 200,
        body: quotaJson(await quotas.get(subject, p.id)),
      }),
    }),
    route({
      method: 'PUT',
      path: '/quotas/{id}',
      operationId: 'updateQuota',
      summary: 'Set the storage limit of a quota (-1: unlimited)',
      tag: 'quota',
      params,
      body: z.object({ hard: z.object({ storage: z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER) }) }),
      responses: { 200: { description: 'Updated' }, 404: notFound },
      handler: async ({ subject, params: p, body }) => {
        await quotas.setHard(subject, p.id, body.hard.storage);
        return ok;
      },
    }),
  ];
}

function quotaJson(quota: Quota): z.infer<typeof quotaSchema> {
  return {
    id: quota.id,
    ref: { id: quota.project.id, name: quota.project.name },
    hard: { storage: quota.hard },
    used: { storage: quota.used },
    creation_time: quota.project.createdAt.toISOString(),
    update_time: quota.project.updatedAt.toISOString(),
  };
}
