import { z } from 'zod';
import { ApiError } from '../errors.js';
import { offsetOf, paged, pagedHeaders, pagingFields } from '../paging.js';
import { route, type Route } from '../router.js';
import { errorsSchema, memberSchema } from '../schemas.js';
import { memberJson } from '../views.js';
import { created, idParam, ok, projectHeaders, projectParam, refOf, type ApiServices } from './common.js';

const params = z.object({ project_name_or_id: projectParam });
const memberParams = params.extend({ mid: idParam });
const notFound = { description: 'Not found', schema: errorsSchema };
const roleId = z
  .number()
  .int()
  .describe('1 projectAdmin, 2 developer, 3 guest, 4 maintainer, 5 limitedGuest');

export function memberRoutes(s: ApiServices): Route[] {
  return [
    route({
      method: 'GET',
      path: '/projects/{project_name_or_id}/members',
      operationId: 'listProjectMembers',
      summary: 'List the members of a project',
      tag: 'member',
      params,
      headers: projectHeaders,
      query: z.object({ entityname: z.string().max(255).optional(), ...pagingFields }),
      responses: {
        200: { description: 'The members', schema: z.array(memberSchema), headers: pagedHeaders },
      },
      handler: async ({ subject, params: p, headers, query, url }) => {
        const page = await s.members.list(subject, refOf(p.project_name_or_id, headers), {
          ...offsetOf(query),
          ...(query.entityname !== undefined && query.entityname !== '' && { entityName: query.entityname }),
        });
        return paged(url, query, page, memberJson);
      },
    }),
    route({
      method: 'POST',
      path: '/projects/{project_name_or_id}/members',
      operationId: 'createProjectMember',
      summary: 'Add a user to a project with a role',
      tag: 'member',
      params,
      headers: projectHeaders,
      body: z.object({
        role_id: roleId.optional(),
        member_user: z
          .object({ user_id: z.number().int().optional(), username: z.string().max(255).optional() })
          .optional(),
        member_group: z.unknown().optional(),
      }),
      responses: {
        201: { description: 'Added', headers: { Location: 'The URL of the member' } },
        409: { description: 'Already a member', schema: errorsSchema },
      },
      handler: async ({ subject, params: p, headers, body }) => {
        if (body.member_group !== undefined && body.member_group !== null && body.member_user === undefined) {
          throw new ApiError('BAD_REQUEST', 'user group members are not supported');
        }
        const member = await s.members.add(
          subject,
          refOf(p.project_name_or_id, headers),
          {
            ...(body.member_user?.user_id !== undefined && { userId: body.member_user.user_id }),
            ...(body.member_user?.username !== undefined && { username: body.member_user.username }),
          },
          body.role_id,
        );
        return created(`/api/v2.0/projects/${encodeURIComponent(p.project_name_or_id)}/members/${member.id}`);
      },
    }),
    route({
      method: 'GET',
      path: '/projects/{project_name_or_id}/members/{mid}',
      operationId: 'getProjectMember',
      summary: 'Get a member of a project',
      tag: 'member',
      params: memberParams,
      headers: projectHeaders,
      responses: { 200: { description: 'The member', schema: memberSchema }, 404: notFound },
      handler: async ({ subject, params: p, headers }) => ({
        status: 200,
        body: memberJson(await s.members.get(subject, refOf(p.project_name_or_id, headers), p.mid)),
      }),
    }),
    route({
      method: 'PUT',
      path: '/projects/{project_name_or_id}/members/{mid}',
      operationId: 'updateProjectMember',
      summary: "Change a member's role",
      tag: 'member',
      params: memberParams,
      headers: projectHeaders,
      body: z.object({ role_id: roleId }),
      responses: { 200: { description: 'Updated' }, 404: notFound },
      handler: async ({ subject, params: p, headers, body }) => {
        await s.members.updateRole(subject, refOf(p.project_name_or_id, headers), p.mid, body.role_id);
        return ok;
      },
    }),
    route({
      method: 'DELETE',
      path: '/projects/{project_name_or_id}/members/{mid}',
      operationId: 'deleteProjectMember',
      summary: 'Remove a member from a project',
      tag: 'member',
      params: memberParams,
      headers: projectHeaders,
      responses: { 200: { description: 'Removed' } },
      handler: async ({ subject, params: p, headers }) => {
        await s.members.remove(subject, refOf(p.project_name_or_id, headers), p.mid);
        return ok;
      },
    }),
  ];
}
