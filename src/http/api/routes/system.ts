import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { externalBase } from '../../auth/credentials.js';
import { route, type Route } from '../router.js';
import { generalInfoSchema, healthSchema, searchSchema } from '../schemas.js';
import { searchJson } from '../views.js';
import type { ApiServices } from './common.js';

/** The Harbor API level Berth answers like; `/systeminfo` reports it for scripts that check versions. */
export const harborApiVersion = 'v2.11.0';

export function systemRoutes(s: ApiServices, document: () => unknown): Route[] {
  return [
    route({
      method: 'GET',
      path: '/search',
      operationId: 'search',
      summary: 'Projects and repositories whose name contains the text, among those the caller can see',
      tag: 'search',
      query: z.object({ q: z.string().max(255) }),
      responses: { 200: { description: 'The matches', schema: searchSchema } },
      handler: async ({ subject, query }) => ({
        status: 200,
        body: searchJson(await s.search.search(subject, query.q)),
      }),
    }),
    route({
      method: 'GET',
      path: '/systeminfo',
      operationId: 'getSystemInfo',
      summary: 'General facts about this registry',
      tag: 'systeminfo',
      responses: { 200: { description: 'The facts', schema: generalInfoSchema } },
      handler: ({ req }) => Promise.resolve({ status: 200, body: systemInfo(s, req) }),
    }),
    route({
      method: 'GET',
      path: '/health',
      operationId: 'getHealth',
      summary: 'Health of the registry and the stores behind it',
      tag: 'health',
      responses: { 200: { description: 'The health status', schema: healthSchema } },
      handler: async () => {
        const components = [
          { name: 'core', status: 'healthy' } as { name: string; status: string; error?: string },
        ];
        for (const [name, check] of Object.entries(s.system.checks)) {
          try {
            await check();
            components.push({ name, status: 'healthy' });
          } catch (error) {
            components.push({ name, status: 'unhealthy', error: (error as Error).message.slice(0, 200) });
          }
        }
        const healthy = components.every((c) => c.status === 'healthy');
        return { status: 200, body: { status: healthy ? 'healthy' : 'unhealthy', components } };
      },
    }),
    route({
      method: 'GET',
      path: '/ping',
      operationId: 'getPing',
      summary: 'Answers "Pong" while the API is up',
      tag: 'ping',
      responses: { 200: { description: 'Pong' } },
      handler: () => Promise.resolve({ status: 200, text: 'Pong', contentType: 'text/plain' }),
    }),
    route({
      method: 'GET',
      path: '/openapi.json',
      operationId: 'getOpenApi',
      summary: 'This document',
      tag: 'meta',
      responses: { 200: { description: 'The OpenAPI 3 document' } },
      handler: () => Promise.resolve({ status: 200, body: document() }),
    }),
  ];
}

function systemInfo(s: ApiServices, req: IncomingMessage): z.infer<typeof generalInfoSchema> {
  const external = externalBase(req, s.system.externalUrl);
  return {
    auth_mode: 'db_auth',
    harbor_version: harborApiVersion,
    berth_version: s.system.version,
    project_creation_restriction: 'everyone',
    self_registration: false,
    has_ca_root: false,
    read_only: false,
    with_chartmuseum: false,
    with_notary: false,
    notification_enable: false,
    registry_url: external.replace(/^https?:\/\//, ''),
    external_url: external,
    registry_storage_provider_name: s.system.storageDriver,
  };
}
