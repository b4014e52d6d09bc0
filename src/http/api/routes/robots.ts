import { z } from 'zod';
import { ApiError } from '../errors.js';
import { offsetOf, paged, pagedHeaders, pagingFields } from '../paging.js';
import { route, type Route } from '../router.js';
import {
  errorsSchema,
  robotCreatedSchema,
  robotPermissionSchema,
  robotSchema,
  robotSecretSchema,
} from '../schemas.js';
import { robotCreatedJson, robotJson } from '../views.js';
import {
  created,
  idParam,
  ok,
  parseHarborQuery,
  projectHeaders,
  projectParam,
  refOf,
  sortQuery,
  termOf,
  type ApiServices,
} from './common.js';

const robotBody = z.object({
  name: z.string().max(255),
  description: z.string().max(1024).optional(),
  secret: z
    .string()
    .max(128)
    .optional()
    .describe('Ignored on creation (a secret is generated), as in Harbor'),
  level: z.string().max(20),
  disable: z.boolean().optional(),
  duration: z.number().int().optional().describe('Days; -1 never expires, 0 the default (30)'),
  permissions: z.array(robotPermissionSchema).max(100),
});

const params = z.object({ robot_id: idParam });
const notFound = { description: 'Not found', schema: errorsSchema };
const listQuery = z.object({
  q: z.string().max(1000).optional().describe('Level=system|project, ProjectID=<id>, name=~<substring>'),
  sort: sortQuery,
  ...pagingFields,
});

function robotInput(body: z.output<typeof robotBody>) {
  return {
    name: body.name,
    level: body.level,
    permissions: body.permissions,
    ...(body.description !== undefined && { description: body.description }),
    ...(body.disable !== undefined && { disable: body.disable }),
    ...(body.duration !== undefined && { duration: body.duration }),
  };
}

export function robotRoutes(s: ApiServices): Route[] {
  return [
    route({
      method: 'GET',
      path: '/robots',
      operationId: 'ListRobot',
      summary: 'List system robots, or the robots of a project (q=Level=project,ProjectID=<id>)',
      tag: 'robot',
      query: listQuery,
      responses: { 200: { description: 'The robots', schema: z.array(robotSchema), headers: pagedHeaders } },
      handler: async ({ subject, query, url }) => {
        const terms = parseHarborQuery(query.q);
        const level = termOf(terms, 'Level', 'level')?.value;
        const projectId = termOf(terms, 'ProjectID', 'project_id')?.value;
        const name = termOf(terms, 'name', 'Name')?.value;
        if (projectId !== undefined && !/^[0-9]{1,15}$/.test(projectId)) {
          throw new ApiError('BAD_REQUEST', 'Project ID must be int type.');
        }
        const page = await s.robots.list(subject, {
          ...offsetOf(query),
          ...(level !== undefined && { level }),
          ...(projectId !== undefined && { projectId: Number(projectId) }),
          ...(name !== undefined && { q: name }),
        });
        return paged(url, query, page, robotJson);
      },
    }),
    route({
      method: 'POST',
      path: '/robots',
      operationId: 'CreateRobot',
      summary: 'Create a robot account; its secret is returned once',
      tag: 'robot',
      body: robotBody,
      responses: {
        201: {
          description: 'Created',
          schema: robotCreatedSchema,
          headers: { Location: 'The URL of the robot' },
        },
        409: { description: 'The name is taken', schema: errorsSchema },
      },
      handler: async ({ subject, body }) => {
        const { robot, secret } = await s.robots.create(subject, robotInput(body));
        return created(`/api/v2.0/robots/${robot.id}`, robotCreatedJson(robot, secret));
      },
    }),
    route({
      method: 'GET',
      path: '/robots/{robot_id}',
      operationId: 'GetRobotByID',
      summary: 'Get a robot account (never its secret)',
      tag: 'robot',
      params,
      responses: { 200: { description: 'The robot', schema: robotSchema }, 404: notFound },
      handler: async ({ subject, params: p }) => ({
        status: 200,
        body: robotJson(await s.robots.get(subject, p.robot_id)),
      }),
    }),
    route({
      method: 'PUT',
      path: '/robots/{robot_id}',
      operationId: 'UpdateRobot',
      summary: 'Update description, disable, duration and permissions of a robot',
      tag: 'robot',
      params,
      body: robotBody,
      responses: { 200: { description: 'Updated' }, 404: notFound },
      handler: async ({ subject, params: p, body }) => {
        await s.robots.update(subject, p.robot_id, robotInput(body));
        return ok;
      },
    }),
    route({
      method: 'PATCH',
      path: '/robots/{robot_id}',
      operationId: 'RefreshSec',
      summary: 'Set a new secret (given, or generated when empty); it is returned once',
      tag: 'robot',
      params,
      body: z.object({ secret: z.string().max(128).optional() }).optional(),
      responses: { 200: { description: 'The new secret', schema: robotSecretSchema }, 404: notFound },
      handler: async ({ subject, params: p, body }) => ({
        status: 200,
        body: { secret: await s.robots.refreshSecret(subject, p.robot_id, body?.secret) },
      }),
    }),
    route({
      method: 'DELETE',
      path: '/robots/{robot_id}',
      operationId: 'DeleteRobot',
      summary: 'Delete a robot account',
      tag: 'robot',
      params,
      responses: { 200: { description: 'Deleted' }, 404: notFound },
      handler: async ({ subject, params: p }) => {
        await s.robots.delete(subject, p.robot_id);
        return ok;
      },
    }),
    route({
      method: 'GET',
      path: '/projects/{project_name_or_id}/robots',
      operationId: 'ListRobotV1',
      summary: 'List the robot accounts of a project',
      tag: 'robot',
      params: z.object({ project_name_or_id: projectParam }),
      headers: projectHeaders,
      query: listQuery,
      responses: { 200: { description: 'The robots', schema: z.array(robotSchema), headers: pagedHeaders } },
      handler: async ({ subject, params: p, headers, query, url }) => {
        const name = termOf(parseHarborQuery(query.q), 'name', 'Name')?.value;
        const page = await s.robots.listInProject(subject, refOf(p.project_name_or_id, headers), {
          ...offsetOf(query),
          ...(name !== undefined && { q: name }),
        });
        return paged(url, query, page, robotJson);
      },
    }),
  ];
}
