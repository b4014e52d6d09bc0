import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Subject } from '../../core/iam/policy.js';
import { ApiError } from './errors.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler answers; the router writes it (JSON unless `text` is given). */
export interface ApiResponse {
  status: number;
  body?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string | string[]>;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  headers?: Record<string, string>;
}

/** Everything a handler gets: validated params, query, headers and body, and who is asking. */
export interface ApiContext<P, Q, H, B> {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  log: Logger;
  subject: Subject;
  params: P;
  query: Q;
  headers: H;
  body: B;
}

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteDefinition<
  P extends Schema | undefined,
  Q extends Schema | undefined,
  H extends Schema | undefined,
  B extends Schema | undefined,
> {
  method: Method;
  /** Harbor's path template below the base path, e.g. `/projects/{project_name_or_id}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  headers?: H;
  body?: B;
  /** How the body is sent (default JSON). */
  bodyType?: 'json' | 'form';
  responses: Record<number, ResponseSpec>;
  /** Left out of the OpenAPI document (the `/c` session endpoints). */
  hidden?: boolean;
  /** Not subject to the CSRF check (sign-in, which a stale session cookie must not block). */
  csrfExempt?: boolean;
  handler: (ctx: ApiContext<Out<P>, Out<Q>, Out<H>, Out<B>>) => Promise<ApiResponse>;
}

/** A route with its types erased, as the router stores it. */
export interface Route {
  method: Method;
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  params?: Schema;
  query?: Schema;
  headers?: Schema;
  body?: Schema;
  bodyType?: 'json' | 'form';
  responses: Record<number, ResponseSpec>;
  hidden?: boolean;
  csrfExempt?: boolean;
  handler: (ctx: ApiContext<unknown, unknown, unknown, unknown>) => Promise<ApiResponse>;
}

/** Defines a route; the handler's argument types follow from the schemas. */
export function route<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  H extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
>(definition: RouteDefinition<P, Q, H, B>): Route {
  return definition as unknown as Route;
}

interface Compiled {
  route: Route;
  segments: (string | { param: string })[];
  literals: number;
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method'; allowed: Method[] }
  | { kind: 'none' };

/**
 * A small router over path templates. Each `{name}` matches one segment, which is percent-decoded once
 * (so Harbor's double-encoded `a%252Fb` arrives as `a%2Fb`, for the handler's schema to decode again).
 * When several templates match, the one with the most literal segments wins (`/users/current` over
 * `/users/{user_id}`).
 */
export class Router {
  private readonly compiled: Compiled[];

  constructor(readonly routes: Route[]) {
    this.compiled = routes.map((r) => {
      const segments = split(r.path).map((s) => {
        const m = /^\{([a-z_]+)\}$/.exec(s);
        return m ? { param: m[1]! } : s;
      });
      return { route: r, segments, literals: segments.filter((s) => typeof s === 'string').length };
    });
  }

  match(method: string, path: string): Match {
    let raw: string[];
    try {
      raw = split(path).map((s) => decodeURIComponent(s));
    } catch {
      throw new ApiError('BAD_REQUEST', 'malformed percent-encoding in the path');
    }
    const candidates: { compiled: Compiled; params: Record<string, string> }[] = [];
    for (const compiled of this.compiled) {
      const params = matchSegments(compiled.segments, raw);
      if (params !== undefined) candidates.push({ compiled, params });
    }
    if (candidates.length === 0) return { kind: 'none' };
    const forMethod = candidates.filter((c) => c.compiled.route.method === method);
    if (forMethod.length === 0)
      return { kind: 'method', allowed: [...new Set(candidates.map((c) => c.compiled.route.method))] };
    const best = forMethod.reduce((a, b) => (b.compiled.literals > a.compiled.literals ? b : a));
    return { kind: 'found', route: best.compiled.route, params: best.params };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegments(template: Compiled['segments'], raw: string[]): Record<string, string> | undefined {
  if (template.length !== raw.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    const value = raw[i]!;
    if (typeof t === 'string') {
      if (t !== value) return undefined;
    } else {
      params[t.param] = value;
    }
  }
  return params;
}

/** Validates a part of the request, turning zod's issues into one BAD_REQUEST message. */
export function parsePart(schema: Schema | undefined, value: unknown, part: string): unknown {
  if (schema === undefined) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : part;
    return `${where}: ${issue.message}`;
  });
  throw new ApiError('BAD_REQUEST', `invalid ${part}: ${problems.join('; ')}`.slice(0, 1000));
}
