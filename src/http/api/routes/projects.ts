import { z } from 'zod';
import { ApiError } from '../errors.js';
import { offsetOf, paged, pagedHeaders, pagingFields } from '../paging.js';
import { route, type Route } from '../router.js';
import { errorsSchema, projectSchema, projectSummarySchema } from '../schemas.js';
import { projectJson, projectSummaryJson } from '../views.js';
import {
  boolString,
  created,
  ok,
  parseHarborQuery,
  projectHeaders,
  projectParam,
  refOf,
  sortQuery,
  termOf,
  type ApiServices,
} from './common.js';

/** The metadata Harbor's ProjectReq carries; other keys are dropped, as Harbor's decoder drops them. */
const projectMetadata = z
  .object({
    public: z.string().max(10).optional(),
    enable_content_trust: z.string().max(10).optional(),
    enable_content_trust_cosign: z.string().max(10).optional(),
    prevent_vul: z.string().max(10).optional(),
    severity: z.string().max(10).optional(),
    auto_scan: z.string().max(10).optional(),
    auto_sbom_generation: z.string().max(10).optional(),
    reuse_sys_cve_allowlist: z.string().max(10).optional(),
  })
  .transform((m) =>
    Object.fromEntries(Object.entries(m).filter((e): e is [string, string] => e[1] !== undefined)),
  );

const projectReq = z.object({
  project_name: z.string().max(255).optional(),
  public: z.boolean().nullish(),
  metadata: projectMetadata.nullish(),
  storage_limit: z.number().int().nullish(),
  registry_id: z.number().int().nullish(),
  cve_allowlist: z.unknown().optional(),
});

const params = z.object({ project_name_or_id: projectParam });
const notFound = { description: 'Not found', schema: errorsSchema };

export function projectRoutes(s: ApiServices): Route[] {
  return [
    route({
      method: 'GET',
      path: '/projects',
      operationId: 'listProjects',
      summary: 'List the projects the caller can see',
      tag: 'project',
      query: z.object({
        q: z.string().max(1000).optional().describe('name=value or name=~substring, public=true|false'),
        name: z.string().max(255).optional().describe('Name substring (Harbor matches it fuzzily)'),
        public: boolString.optional(),
        owner: z.string().max(255).optional(),
        with_detail: boolString.optional(),
        sort: sortQuery,
        ...pagingFields,
      }),
      responses: {
        200: { description: 'The projects', schema: z.array(projectSchema), headers: pagedHeaders },
      },
      handler: async ({ subject, query, url }) => {
        const terms = parseHarborQuery(query.q);
        const nameTerm = termOf(terms, 'name');
        const publicTerm = termOf(terms, 'public');
        const filter: { name?: string; q?: string; public?: boolean } = {};
        if (query.name !== undefined && query.name !== '') filter.q = query.name;
        if (nameTerm !== undefined) filter[nameTerm.op === 'exact' ? 'name' : 'q'] = nameTerm.value;
        const isPublic = query.public ?? (publicTerm === undefined ? undefined : publicTerm.value === 'true');
        if (isPublic !== undefined) filter.public = isPublic;
        const page = await s.projects.list(subject, { ...filter, ...offsetOf(query) });
        return paged(url, query, page, projectJson);
      },
    }),
    route({
      method: 'HEAD',
      path: '/projects',
      operationId: 'headProject',
      summary: 'Check whether a project name exists',
      tag: 'project',
      query: z.object({ project_name: z.string().min(1).max(255) }),
      responses: { 200: { description: 'The project exists' }, 404: notFound },
      handler: async ({ subject, query }) => {
        await s.projects.exists(subject, query.project_name);
        return ok;
      },
    }),
    route({
      method: 'POST',
      path: '/projects',
      operationId: 'createProject',
      summary: 'Create a project; the caller becomes its Project Admin',
      tag: 'project',
      headers: z.object({ 'x-resource-name-in-location': boolString.optional() }),
      body: projectReq,
      responses: {
        201: { description: 'Created', headers: { Location: 'The URL of the project' } },
        400: { description: 'Bad request', schema: errorsSchema },
        409: { description: 'The name is taken', schema: errorsSchema },
      },
      handler: async ({ subject, body, headers }) => {
        if (body.project_name === undefined) throw new ApiError('BAD_REQUEST', 'project_name is required');
        if (body.registry_id !== undefined && body.registry_id !== null) {
          throw new ApiError('BAD_REQUEST', 'proxy cache projects are not supported');
        }
        const project = await s.projects.create(subject, {
          name: body.project_name,
          ...(body.public !== undefined && body.public !== null && { public: body.public }),
          ...(body.metadata !== undefined && body.metadata !== null && { metadata: body.metadata }),
          ...(body.storage_limit !== undefined &&
            body.storage_limit !== null && { storageLimit: body.storage_limit }),
        });
        const id = headers['x-resource-name-in-location'] === true ? project.name : String(project.id);
        return created(`/api/v2.0/projects/${id}`);
      },
    }),
    route({
      method: 'GET',
      path: '/projects/{project_name_or_id}',
      operationId: 'getProject',
      summary: 'Get a project',
      tag: 'project',
      params,
      headers: projectHeaders,
      responses: { 200: { description: 'The project', schema: projectSchema }, 404: notFound },
      handler: async ({ subject, params: p, headers }) => ({
        status: 200,
        body: projectJson(await s.projects.get(subject, refOf(p.project_name_or_id, headers))),
      }),
    }),
    route({
      method: 'PUT',
      path: '/projects/{project_name_or_id}',
      operationId: 'updateProject',
      summary: 'Update the settings of a project (metadata, public, storage_limit)',
      tag: 'project',
      params,
      headers: projectHeaders,
      body: projectReq,
      responses: { 200: { description: 'Updated' }, 404: notFound },
      handler: async ({ subject, params: p, headers, body }) => {
        await s.projects.update(subject, refOf(p.project_name_or_id, headers), {
          ...(body.public !== undefined && body.public !== null && { public: body.public }),
          ...(body.metadata !== undefined && body.metadata !== null && { metadata: body.metadata }),
          ...(body.storage_limit !== undefined &&
            body.storage_limit !== null && { storageLimit: body.storage_limit }),
        });
        return ok;
      },
    }),
    route({
      method: 'DELETE',
      path: '/projects/{project_name_or_id}',
      operationId: 'deleteProject',
      summary: 'Delete a project that holds no repositories',
      tag: 'project',
      params,
      headers: projectHeaders,
      responses: {
        200: { description: 'Deleted' },
        404: notFound,
        412: { description: 'The project still holds repositories', schema: errorsSchema },
      },
      handler: async ({ subject, params: p, headers }) => {
        await s.projects.delete(subject, refOf(p.project_name_or_id, headers));
        return ok;
      },
    }),
    route({
      method: 'GET',
      path: '/projects/{project_name_or_id}/summary',
      operationId: 'getProjectSummary',
      summary: 'Repository count, members per role and quota of a project',
      tag: 'project',
      params,
      headers: projectHeaders,
      responses: { 200: { description: 'The summary', schema: projectSummarySchema }, 404: notFound },
      handler: async ({ subject, params: p, headers }) => ({
        status: 200,
        body: projectSummaryJson(await s.projects.summary(subject, refOf(p.project_name_or_id, headers))),
      }),
    }),
    ...metadataRoutes(s),
  ];
}

function metadataRoutes(s: ApiServices): Route[] {
  const entries = z.record(z.string().max(100), z.string().max(1000));
  const metaParams = params.extend({ meta_name: z.string().min(1).max(100) });
  const map = { description: 'Metadata', schema: z.record(z.string(), z.string()) };
  return [
    route({
      method: 'GET',
      path: '/projects/{project_name_or_id}/metadatas',
      operationId: 'listProjectMetadatas',
      summary: 'Get the metadata of a project',
      tag: 'projectMetadata',
      params,
      headers: projectHeaders,
      responses: { 200: map, 404: notFound },
      handler: async ({ subject, params: p, headers }) => ({
        status: 200,
        body: await s.projectMetadata.list(subject, refOf(p.project_name_or_id, headers)),
      }),
    }),
    route({
      method: 'POST',
      path: '/projects/{project_name_or_id}/metadatas',
      operationId: 'addProjectMetadatas',
      summary: 'Add a metadata key to a project',
      tag: 'projectMetadata',
      params,
      headers: projectHeaders,
      body: entries,
      responses: { 200: { description: 'Added' }, 409: { description: 'Already set', schema: errorsSchema } },
      handler: async ({ subject, params: p, headers, body }) => {
        await s.projectMetadata.add(subject, refOf(p.project_name_or_id, headers), body);
        return ok;
      },
    }),
    route({
      method: 'GET',
      path: '/projects/{project_name_or_id}/metadatas/{meta_name}',
      operationId: 'getProjectMetadata',
      summary: 'Get one metadata key of a project',
      tag: 'projectMetadata',
      params: metaParams,
      headers: projectHeaders,
      responses: { 200: map, 404: notFound },
      handler: async ({ subject, params: p, headers }) => ({
        status: 200,
        body: await s.projectMetadata.get(subject, refOf(p.project_name_or_id, headers), p.meta_name),
      }),
    }),
    route({
      method: 'PUT',
      path: '/projects/{project_name_or_id}/metadatas/{meta_name}',
      operationId: 'updateProjectMetadata',
      summary: 'Change one metadata key of a project',
      tag: 'projectMetadata',
      params: metaParams,
      headers: projectHeaders,
      body: entries,
      responses: { 200: { description: 'Updated' }, 404: notFound },
      handler: async ({ subject, params: p, headers, body }) => {
        await s.projectMetadata.put(subject, refOf(p.project_name_or_id, headers), p.meta_name, body);
        return ok;
      },
    }),
    route({
      method: 'DELETE',
      path: '/projects/{project_name_or_id}/metadatas/{meta_name}',
      operationId: 'deleteProjectMetadata',
      summary: 'Remove one metadata key of a project',
      tag: 'projectMetadata',
      params: metaParams,
      headers: projectHeaders,
      responses: { 200: { description: 'Removed' }, 404: notFound },
      handler: async ({ subject, params: p, headers }) => {
        await s.projectMetadata.delete(subject, refOf(p.project_name_or_id, headers), p.meta_name);
        return ok;
      },
    }),
  ];
}
