import { z } from 'zod';
import type { RetentionPolicy } from '../../../core/lifecycle/retention/model.js';
import {
  repositoryRetentionSchema,
  retentionExecutionJson,
  retentionExecutionSchema,
  retentionMetadata,
  retentionPolicyJson,
  retentionPolicySchema,
  retentionTaskJson,
  retentionTaskSchema,
} from '../lifecycle-schemas.js';
import { offsetOf, paged, pagedHeaders, pagingFields } from '../paging.js';
import { route, type Route } from '../router.js';
import { errorsSchema } from '../schemas.js';
import { created, idParam, ok, repositoryParam, type ApiServices } from './common.js';

const policyParams = z.object({ id: idParam });
const executionParams = policyParams.extend({ eid: idParam });
const notFound = { description: 'Not found', schema: errorsSchema };

/** Harbor's `/retentions` (tag retention policies, executions and tasks) and the per-repository call. */
export function retentionRoutes(s: ApiServices): Route[] {
  const toPolicy = (body: z.output<typeof retentionPolicySchema>): RetentionPolicy => ({
    algorithm: body.algorithm,
    rules: body.rules,
    trigger: body.trigger,
    scope: body.scope,
  });
  return [
    route({
      method: 'GET',
      path: '/retentions/metadatas',
      operationId: 'getRentenitionMetadata',
      summary: 'The retention rule templates and selectors',
      tag: 'retention',
      responses: { 200: { description: 'The metadata' } },
      handler: () => Promise.resolve({ status: 200, body: retentionMetadata }),
    }),
    route({
      method: 'POST',
      path: '/retentions',
      operationId: 'createRetention',
      summary: "Create a project's retention policy",
      tag: 'retention',
      body: retentionPolicySchema,
      responses: {
        201: { description: 'Created', headers: { Location: 'The URL of the policy' } },
        409: { description: 'The project has a policy', schema: errorsSchema },
      },
      handler: async ({ subject, body }) => {
        const stored = await s.retention.create(subject, toPolicy(body));
        return created(`/api/v2.0/retentions/${stored.id}`);
      },
    }),
    route({
      method: 'GET',
      path: '/retentions/{id}',
      operationId: 'getRetention',
      summary: 'Get a retention policy',
      tag: 'retention',
      params: policyParams,
      responses: { 200: { description: 'The policy' }, 404: notFound },
      handler: async ({ subject, params }) => ({
        status: 200,
        body: retentionPolicyJson(await s.retention.get(subject, params.id)),
      }),
    }),
    route({
      method: 'PUT',
      path: '/retentions/{id}',
      operationId: 'updateRetention',
      summary: 'Replace a retention policy',
      tag: 'retention',
      params: policyParams,
      body: retentionPolicySchema,
      responses: { 200: { description: 'Updated' }, 404: notFound },
      handler: async ({ subject, params, body }) => {
        await s.retention.update(subject, params.id, toPolicy(body));
        return ok;
      },
    }),
    route({
      method: 'DELETE',
      path: '/retentions/{id}',
      operationId: 'deleteRetention',
      summary: 'Delete a retention policy with its executions',
      tag: 'retention',
      params: policyParams,
      responses: { 200: { description: 'Deleted' }, 404: notFound },
      handler: async ({ subject, params }) => {
        await s.retention.delete(subject, params.id);
        return ok;
      },
    }),
    route({
      method: 'POST',
      path: '/retentions/{id}/executions',
      operationId: 'triggerRetentionExecution',
      summary: 'Run a retention policy now (dry_run: only report what would be deleted)',
      tag: 'retention',
      params: policyParams,
      body: z.object({ dry_run: z.boolean().default(false) }),
      responses: { 201: { description: 'Started', headers: { Location: 'The URL of the execution' } } },
      handler: async ({ subject, params, body }) => {
        const execution = await s.retention.execute(subject, params.id, body.dry_run);
        return created(`/api/v2.0/retentions/${params.id}/executions/${execution.id}`);
      },
    }),
    route({
      method: 'GET',
      path: '/retentions/{id}/executions',
      operationId: 'listRetentionExecutions',
      summary: "A policy's executions, newest first",
      tag: 'retention',
      params: policyParams,
      query: z.object(pagingFields),
      responses: {
        200: {
          description: 'The executions',
          schema: z.array(retentionExecutionSchema),
          headers: pagedHeaders,
        },
      },
      handler: async ({ subject, params, query, url }) =>
        paged(
          url,
          query,
          await s.retention.listExecutions(subject, params.id, offsetOf(query)),
          retentionExecutionJson,
        ),
    }),
    route({
      method: 'PATCH',
      path: '/retentions/{id}/executions/{eid}',
      operationId: 'operateRetentionExecution',
      summary: 'Stop a running execution',
      tag: 'retention',
      params: executionParams,
      body: z.object({ action: z.literal('stop') }),
      responses: { 200: { description: 'Stopped' }, 404: notFound },
      handler: async ({ subject, params }) => {
        await s.retention.stop(subject, params.id, params.eid);
        return ok;
      },
    }),
    route({
      method: 'GET',
      path: '/retentions/{id}/executions/{eid}/tasks',
      operationId: 'listRetentionTasks',
      summary: "An execution's tasks (one per repository)",
      tag: 'retention',
      params: executionParams,
      query: z.object(pagingFields),
      responses: {
        200: { description: 'The tasks', schema: z.array(retentionTaskSchema), headers: pagedHeaders },
      },
      handler: async ({ subject, params, query, url }) =>
        paged(
          url,
          query,
          await s.retention.listTasks(subject, params.id, params.eid, offsetOf(query)),
          retentionTaskJson,
        ),
    }),
    route({
      method: 'GET',
      path: '/retentions/{id}/executions/{eid}/tasks/{tid}',
      operationId: 'getRetentionTaskLog',
      summary: "A task's log: each artifact with its tags, push and pull times, and RETAIN/DEL/IMMUTABLE",
      tag: 'retention',
      params: executionParams.extend({ tid: idParam }),
      responses: { 200: { description: 'The log (text)' }, 404: notFound },
      handler: async ({ subject, params }) => ({
        status: 200,
        text: await s.retention.taskLog(subject, params.id, params.eid, params.tid),
      }),
    }),
    route({
      method: 'POST',
      path: '/projects/{project_name}/repositories/{repository_name}/retentions',
      operationId: 'putRepositoryRetention',
      summary: "Create or replace the project policy's rules for one repository",
      tag: 'retention',
      params: z.object({ project_name: z.string().min(1).max(255), repository_name: repositoryParam }),
      body: repositoryRetentionSchema,
      responses: {
        200: { description: 'Replaced' },
        201: { description: 'Created', headers: { Location: 'The URL of the policy' } },
      },
      handler: async ({ subject, params, body }) => {
        const { stored, created: isNew } = await s.retention.putForRepository(
          subject,
          { by: 'name', name: params.project_name },
          params.repository_name,
          body.rules,
        );
        const location = `/api/v2.0/retentions/${stored.id}`;
        return {
          status: isNew ? 201 : 200,
          headers: { Location: location },
          body: retentionPolicyJson(stored),
        };
      },
    }),
  ];
}
