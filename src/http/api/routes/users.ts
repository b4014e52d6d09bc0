import { z } from 'zod';
import { offsetOf, paged, pagedHeaders, pagingFields } from '../paging.js';
import { route, type Route } from '../router.js';
import { errorsSchema, userSchema } from '../schemas.js';
import { userJson } from '../views.js';
import { created, idParam, ok, parseHarborQuery, sortQuery, termOf, type ApiServices } from './common.js';

const params = z.object({ user_id: idParam });
const notFound = { description: 'Not found', schema: errorsSchema };
const profile = z.object({
  email: z.string().max(255).optional(),
  realname: z.string().max(255).optional(),
  comment: z.string().max(1024).optional(),
});

export function userRoutes(s: ApiServices): Route[] {
  return [
    route({
      method: 'POST',
      path: '/users',
      operationId: 'createUser',
      summary: 'Create a local user (system admins)',
      tag: 'user',
      body: profile.extend({ username: z.string().max(255), password: z.string().max(128) }),
      responses: {
        201: { description: 'Created', headers: { Location: 'The URL of the user' } },
        409: { description: 'The name is taken', schema: errorsSchema },
      },
      handler: async ({ subject, body }) => {
        const user = await s.users.create(subject, {
          username: body.username,
          password: body.password,
          email: body.email ?? '',
          ...(body.realname !== undefined && body.realname !== '' && { realname: body.realname }),
          ...(body.comment !== undefined && { comment: body.comment }),
        });
        return created(`/api/v2.0/users/${user.id}`);
      },
    }),
    route({
      method: 'GET',
      path: '/users',
      operationId: 'listUsers',
      summary: 'List users (system admins)',
      tag: 'user',
      query: z.object({
        q: z.string().max(1000).optional().describe('username=~<substring>'),
        username: z.string().max(255).optional(),
        sort: sortQuery,
        ...pagingFields,
      }),
      responses: { 200: { description: 'The users', schema: z.array(userSchema), headers: pagedHeaders } },
      handler: async ({ subject, query, url }) => {
        const name = query.username ?? termOf(parseHarborQuery(query.q), 'username')?.value;
        const page = await s.users.list(subject, {
          ...offsetOf(query),
          ...(name !== undefined && name !== '' && { q: name }),
        });
        return paged(url, query, page, userJson);
      },
    }),
    route({
      method: 'GET',
      path: '/users/current',
      operationId: 'getCurrentUserInfo',
      summary: 'The signed-in user',
      tag: 'user',
      responses: {
        200: { description: 'The user', schema: userSchema },
        401: { description: 'Not signed in' },
      },
      handler: async ({ subject }) => ({ status: 200, body: userJson(await s.users.current(subject)) }),
    }),
    route({
      method: 'GET',
      path: '/users/search',
      operationId: 'searchUsers',
      summary: 'Find users by name (any signed-in caller)',
      tag: 'user',
      query: z.object({ username: z.string().min(1).max(255), ...pagingFields }),
      responses: {
        200: {
          description: 'Matching users',
          schema: z.array(z.object({ user_id: z.number().int(), username: z.string() })),
          headers: pagedHeaders,
        },
      },
      handler: async ({ subject, query, url }) => {
        const page = await s.users.search(subject, query.username, offsetOf(query));
        return paged(url, query, page, (u) => ({ user_id: u.id, username: u.username }));
      },
    }),
    route({
      method: 'GET',
      path: '/users/{user_id}',
      operationId: 'getUser',
      summary: "A user's profile (the user or a system admin)",
      tag: 'user',
      params,
      responses: { 200: { description: 'The user', schema: userSchema }, 404: notFound },
      handler: async ({ subject, params: p }) => ({
        status: 200,
        body: userJson(await s.users.get(subject, p.user_id)),
      }),
    }),
    route({
      method: 'PUT',
      path: '/users/{user_id}',
      operationId: 'updateUserProfile',
      summary: 'Change e-mail, real name and comment',
      tag: 'user',
      params,
      body: profile,
      responses: { 200: { description: 'Updated' }, 404: notFound },
      handler: async ({ subject, params: p, body }) => {
        await s.users.updateProfile(subject, p.user_id, {
          ...(body.email !== undefined && { email: body.email }),
          ...(body.realname !== undefined && { realname: body.realname }),
          ...(body.comment !== undefined && { comment: body.comment }),
        });
        return ok;
      },
    }),
    route({
      method: 'DELETE',
      path: '/users/{user_id}',
      operationId: 'deleteUser',
      summary: 'Delete a user (system admins; not oneself, not user 1)',
      tag: 'user',
      params,
      responses: { 200: { description: 'Deleted' }, 404: notFound },
      handler: async ({ subject, params: p }) => {
        await s.users.delete(subject, p.user_id);
        return ok;
      },
    }),
    route({
      method: 'PUT',
      path: '/users/{user_id}/password',
      operationId: 'updateUserPassword',
      summary: 'Change a password; users changing their own give the old one',
      tag: 'user',
      params,
      body: z.object({ old_password: z.string().max(4096).optional(), new_password: z.string().max(4096) }),
      responses: {
        200: { description: 'Changed' },
        400: { description: 'The new password is too weak or unchanged', schema: errorsSchema },
        403: { description: 'The old password is wrong', schema: errorsSchema },
      },
      handler: async ({ subject, params: p, body }) => {
        await s.users.changePassword(subject, p.user_id, {
          newPassword: body.new_password,
          ...(body.old_password !== undefined && { oldPassword: body.old_password }),
        });
        return ok;
      },
    }),
    route({
      method: 'PUT',
      path: '/users/{user_id}/sysadmin',
      operationId: 'setUserSysAdmin',
      summary: 'Grant or revoke system admin',
      tag: 'user',
      params,
      body: z.object({ sysadmin_flag: z.boolean() }),
      responses: { 200: { description: 'Changed' }, 404: notFound },
      handler: async ({ subject, params: p, body }) => {
        await s.users.setSysadmin(subject, p.user_id, body.sysadmin_flag);
        return ok;
      },
    }),
  ];
}
