import { z } from 'zod';
import type { Route } from './router.js';
import { errorsSchema } from './schemas.js';

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const result = z.toJSONSchema(schema, { io, target: 'openapi-3.0', unrepresentable: 'any' }) as Json;
  delete result.$schema;
  return result;
}

/** One OpenAPI parameter per property of an object schema (path, query or header). */
function parameters(schema: z.ZodType | undefined, where: 'path' | 'query' | 'header'): Json[] {
  if (schema === undefined) return [];
  const object = jsonSchema(schema, 'input');
  const properties = (object.properties ?? {}) as Record<string, Json>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name: where === 'header' ? headerName(name) : name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' && { description }),
      schema: rest,
    };
  });
}

function headerName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * The OpenAPI 3 document of the management API, generated from the same route definitions (and zod
 * schemas) that validate requests, so the two cannot drift apart.
 */
export function openApiDocument(routes: Route[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    if (r.hidden === true) continue;
    const operation: Json = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      parameters: [
        ...parameters(r.params, 'path'),
        ...parameters(r.query, 'query'),
        ...parameters(r.headers, 'header'),
      ],
      responses: responses(r),
    };
    if (r.body !== undefined) {
      const type = r.bodyType === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
      operation.requestBody = {
        required: !r.body.safeParse(undefined).success,
        content: { [type]: { schema: jsonSchema(r.body, 'input') } },
      };
    }
    (paths[r.path] ??= {})[r.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Berth management API',
      description: "Harbor's /api/v2.0 paths, fields and status codes, served by Berth.",
      version,
    },
    servers: [{ url: '/api/v2.0' }],
    security: [{ basic: [] }, { session: [] }, {}],
    paths,
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        session: { type: 'apiKey', in: 'cookie', name: 'sid' },
      },
      schemas: { Errors: jsonSchema(errorsSchema, 'output') },
    },
  };
}

function responses(r: Route): Json {
  const result: Json = {};
  const all = { ...r.responses };
  all[401] ??= { description: 'Unauthorized', schema: errorsSchema };
  all[403] ??= { description: 'Forbidden', schema: errorsSchema };
  all[500] ??= { description: 'Internal server error', schema: errorsSchema };
  for (const [status, spec] of Object.entries(all)) {
    const response: Json = { description: spec.description };
    if (spec.schema !== undefined) {
      response.content = { 'application/json': { schema: jsonSchema(spec.schema, 'output') } };
    }
    if (spec.headers !== undefined) {
      response.headers = Object.fromEntries(
        Object.entries(spec.headers).map(([name, description]) => [
          name,
          { description, schema: { type: 'string' } },
        ]),
      );
    }
    result[status] = response;
  }
  return result;
}
