import { z } from 'zod';
import { immutableRuleJson, immutableRuleSchema } from '../lifecycle-schemas.js';
import { offsetOf, paged, pagedHeaders, pagingFields } from '../paging.js';
import { route, type Route } from '../router.js';
import { errorsSchema } from '../schemas.js';
import { created, idParam, ok, projectHeaders, projectParam, refOf, type ApiServices } from './common.js';

const params = z.object({ project_name_or_id: projectParam });
const ruleParams = params.extend({ immutable_rule_id: idParam });
const notFound = { description: 'Not found', schema: errorsSchema };

/** Harbor's `/projects/{p}/immutabletagrules`. */
export function immutableRoutes(s: ApiServices): Route[] {
  return [
    route({
      method: 'GET',
      path: '/projects/{project_name_or_id}/immutabletagrules',
      operationId: 'ListImmuRules',
      summary: "A project's immutable tag rules",
      tag: 'immutable',
      params,
      headers: projectHeaders,
      query: z.object({
        q: z.string().max(1000).optional(),
        sort: z.string().max(200).optional(),
        ...pagingFields,
      }),
      responses: { 200: { description: 'The rules', schema: z.array(z.unknown()), headers: pagedHeaders } },
      handler: async ({ subject, params: p, headers, query, url }) => {
        const { page } = await s.immutableRules.list(
          subject,
          refOf(p.project_name_or_id, headers),
          offsetOf(query),
        );
        return paged(url, query, page, immutableRuleJson);
      },
    }),
    route({
      method: 'POST',
      path: '/projects/{project_name_or_id}/immutabletagrules',
      operationId: 'CreateImmuRule',
      summary: 'Add an immutable tag rule',
      tag: 'immutable',
      params,
      headers: projectHeaders,
      body: immutableRuleSchema,
      responses: {
        201: { description: 'Created', headers: { Location: 'The URL of the rule' } },
        409: { description: 'A rule with the same selectors exists', schema: errorsSchema },
      },
      handler: async ({ subject, params: p, headers, body, url }) => {
        const rule = await s.immutableRules.create(
          subject,
          refOf(p.project_name_or_id, headers),
          withoutIds(body),
        );
        return created(`${url.pathname.replace(/\/+$/, '')}/${rule.id}`);
      },
    }),
    route({
      method: 'PUT',
      path: '/projects/{project_name_or_id}/immutabletagrules/{immutable_rule_id}',
      operationId: 'UpdateImmuRule',
      summary: 'Update an immutable tag rule (or only enable/disable it)',
      tag: 'immutable',
      params: ruleParams,
      headers: projectHeaders,
      body: immutableRuleSchema.partial(),
      responses: { 200: { description: 'Updated' }, 404: notFound },
      handler: async ({ subject, params: p, headers, body }) => {
        const defined = Object.fromEntries(
          Object.entries(withoutIds(body)).filter(([, v]) => v !== undefined),
        );
        await s.immutableRules.update(
          subject,
          refOf(p.project_name_or_id, headers),
          p.immutable_rule_id,
          defined,
        );
        return ok;
      },
    }),
    route({
      method: 'DELETE',
      path: '/projects/{project_name_or_id}/immutabletagrules/{immutable_rule_id}',
      operationId: 'DeleteImmuRule',
      summary: 'Delete an immutable tag rule',
      tag: 'immutable',
      params: ruleParams,
      headers: projectHeaders,
      responses: { 200: { description: 'Deleted' }, 404: notFound },
      handler: async ({ subject, params: p, headers }) => {
        await s.immutableRules.delete(subject, refOf(p.project_name_or_id, headers), p.immutable_rule_id);
        return ok;
      },
    }),
  ];
}

/** The body without the ids Harbor clients echo back (the URL gives them). */
function withoutIds<T extends { id?: number | undefined; project_id?: number | undefined }>(
  body: T,
): Omit<T, 'id' | 'project_id'> {
  const copy = { ...body };
  delete copy.id;
  delete copy.project_id;
  return copy;
}
