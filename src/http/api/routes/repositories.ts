import { z } from 'zod';
import type { ArtifactFilter } from '../../../core/content/artifacts.js';
import { ApiError } from '../errors.js';
import { offsetOf, paged, pagedHeaders, pagingFields } from '../paging.js';
import { route, type Route } from '../router.js';
import { artifactSchema, errorsSchema, repositorySchema, tagSchema } from '../schemas.js';
import { artifactJson, repositoryJson, tagJson } from '../views.js';
import {
  boolString,
  created,
  ok,
  parseHarborQuery,
  repositoryParam,
  sortQuery,
  termOf,
  type ApiServices,
} from './common.js';

const projectName = z.string().min(1).max(255).describe('The name of the project');
const repoParams = z.object({ project_name: projectName, repository_name: repositoryParam });
const artifactParams = repoParams.extend({
  reference: z.string().min(1).max(200).describe('A digest or a tag'),
});
const notFound = { description: 'Not found', schema: errorsSchema };
const ignoredFlag = boolString.optional().describe('Accepted for compatibility; ignored');

function artifactFilter(q: string | undefined): ArtifactFilter {
  const terms = parseHarborQuery(q);
  const filter: ArtifactFilter = {};
  const tags = termOf(terms, 'tags');
  if (tags !== undefined) {
    if (tags.op === 'exact' && tags.value === '*') filter.tags = { kind: 'any' };
    else if (tags.op === 'exact' && tags.value === 'nil') filter.tags = { kind: 'none' };
    else filter.tags = { kind: tags.op, value: tags.value };
  }
  const digest = termOf(terms, 'digest');
  if (digest !== undefined) {
    if (digest.op !== 'exact') throw new ApiError('BAD_REQUEST', 'digest takes an exact value');
    filter.digest = digest.value;
  }
  return filter;
}

export function repositoryRoutes(s: ApiServices): Route[] {
  const ref = (p: { project_name: string; repository_name: string }) => ({
    project: p.project_name,
    repository: p.repository_name,
  });
  return [
    route({
      method: 'GET',
      path: '/projects/{project_name}/repositories',
      operationId: 'listRepositories',
      summary: 'List the repositories of a project',
      tag: 'repository',
      params: z.object({ project_name: projectName }),
      query: z.object({
        q: z.string().max(1000).optional().describe('name=~<substring>'),
        sort: sortQuery,
        ...pagingFields,
      }),
      responses: {
        200: { description: 'The repositories', schema: z.array(repositorySchema), headers: pagedHeaders },
      },
      handler: async ({ subject, params: p, query, url }) => {
        const name = termOf(parseHarborQuery(query.q), 'name')?.value;
        const { access, page } = await s.repositories.list(subject, p.project_name, {
          ...offsetOf(query),
          ...(name !== undefined && name !== '' && { q: name }),
        });
        return paged(url, query, page, (r) => repositoryJson(access.project, r));
      },
    }),
    route({
      method: 'GET',
      path: '/projects/{project_name}/repositories/{repository_name}',
      operationId: 'getRepository',
      summary: 'Get a repository',
      tag: 'repository',
      params: repoParams,
      responses: { 200: { description: 'The repository', schema: repositorySchema }, 404: notFound },
      handler: async ({ subject, params: p }) => {
        const { access, repository } = await s.repositories.get(subject, ref(p));
        return { status: 200, body: repositoryJson(access.project, repository) };
      },
    }),
    route({
      method: 'DELETE',
      path: '/projects/{project_name}/repositories/{repository_name}',
      operationId: 'deleteRepository',
      summary: 'Delete a repository with all its artifacts',
      tag: 'repository',
      params: repoParams,
      responses: { 200: { description: 'Deleted' }, 404: notFound },
      handler: async ({ subject, params: p }) => {
        await s.repositories.delete(subject, ref(p));
        return ok;
      },
    }),
    route({
      method: 'GET',
      path: '/projects/{project_name}/repositories/{repository_name}/artifacts',
      operationId: 'listArtifacts',
      summary: 'List the artifacts of a repository (tagged ones and those no index references)',
      tag: 'artifact',
      params: repoParams,
      query: z.object({
        q: z
          .string()
          .max(1000)
          .optional()
          .describe('tags=*, tags=nil, tags=<tag>, tags=~<substring>, digest=<digest>'),
        with_tag: boolString.optional(),
        with_label: ignoredFlag,
        with_scan_overview: ignoredFlag,
        with_signature: ignoredFlag,
        with_immutable_status: ignoredFlag,
        with_accessory: ignoredFlag,
        sort: sortQuery,
        ...pagingFields,
      }),
      responses: {
        200: { description: 'The artifacts', schema: z.array(artifactSchema), headers: pagedHeaders },
      },
      handler: async ({ subject, params: p, query, url }) => {
        const withTags = query.with_tag ?? true;
        const { access, page } = await s.artifacts.list(subject, ref(p), {
          ...offsetOf(query),
          filter: artifactFilter(query.q),
          withTags,
        });
        return paged(url, query, page, (a) => artifactJson(access.project, a, withTags));
      },
    }),
    route({
      method: 'GET',
      path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}',
      operationId: 'getArtifact',
      summary: 'Get an artifact by digest or tag',
      tag: 'artifact',
      params: artifactParams,
      query: z.object({
        with_tag: boolString.optional(),
        with_label: ignoredFlag,
        with_scan_overview: ignoredFlag,
      }),
      responses: { 200: { description: 'The artifact', schema: artifactSchema }, 404: notFound },
      handler: async ({ subject, params: p, query }) => {
        const withTags = query.with_tag ?? true;
        const { access, artifact } = await s.artifacts.get(subject, ref(p), p.reference, withTags);
        return { status: 200, body: artifactJson(access.project, artifact, withTags) };
      },
    }),
    route({
      method: 'DELETE',
      path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}',
      operationId: 'deleteArtifact',
      summary: 'Delete an artifact (by digest or tag) with all its tags',
      tag: 'artifact',
      params: artifactParams,
      responses: {
        200: { description: 'Deleted' },
        404: notFound,
        412: { description: 'An index references the artifact', schema: errorsSchema },
      },
      handler: async ({ subject, params: p }) => {
        await s.artifacts.delete(subject, ref(p), p.reference);
        return ok;
      },
    }),
    route({
      method: 'GET',
      path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags',
      operationId: 'listTags',
      summary: 'List the tags of an artifact',
      tag: 'artifact',
      params: artifactParams,
      query: z.object({ q: z.string().max(1000).optional(), sort: sortQuery, ...pagingFields }),
      responses: { 200: { description: 'The tags', schema: z.array(tagSchema), headers: pagedHeaders } },
      handler: async ({ subject, params: p, query, url }) => {
        const { artifact, page } = await s.artifacts.listTags(subject, ref(p), p.reference, offsetOf(query));
        return paged(url, query, page, (tag) => tagJson(tag, artifact));
      },
    }),
    route({
      method: 'POST',
      path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags',
      operationId: 'createTag',
      summary: 'Add a tag to an artifact',
      tag: 'artifact',
      params: artifactParams,
      body: z.object({ name: z.string().min(1).max(128) }),
      responses: {
        201: { description: 'Created', headers: { Location: 'The URL of the tag' } },
        409: { description: 'The tag exists', schema: errorsSchema },
      },
      handler: async ({ subject, params: p, body, url }) => {
        await s.artifacts.createTag(subject, ref(p), p.reference, body.name);
        return created(`${url.pathname.replace(/\/+$/, '')}/${encodeURIComponent(body.name)}`);
      },
    }),
    route({
      method: 'DELETE',
      path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}',
      operationId: 'deleteTag',
      summary: 'Remove a tag from an artifact',
      tag: 'artifact',
      params: artifactParams.extend({ tag_name: z.string().min(1).max(128) }),
      responses: { 200: { description: 'Removed' }, 404: notFound },
      handler: async ({ subject, params: p }) => {
        await s.artifacts.deleteTag(subject, ref(p), p.reference, p.tag_name);
        return ok;
      },
    }),
  ];
}
