import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ArtifactService } from '../../core/content/artifacts.js';
import type { Registry } from '../../core/content/registry.js';
import { RepositoryService } from '../../core/content/repositories.js';
import { SearchService } from '../../core/content/search.js';
import { MemberService } from '../../core/iam/members.js';
import { ProjectMetadataService } from '../../core/iam/project-metadata.js';
import { ProjectService } from '../../core/iam/projects.js';
import { RobotService } from '../../core/iam/robots.js';
import { UserService } from '../../core/iam/users.js';
import { ImmutableRuleService } from '../../core/lifecycle/immutable/service.js';
import { RetentionService } from '../../core/lifecycle/retention/service.js';
import type { Digest } from '../../core/oci/digest.js';
import type { BlobStore, Clock, MetadataStore, PasswordHasher } from '../../core/ports.js';
import type { JobControl } from '../../core/lifecycle/jobs.js';
import { requestPath } from '../oci/routes.js';
import { ApiAuthenticator, type Caller, type LoginPort, type SubjectRefresher } from './auth.js';
import { readForm, readJson } from './body.js';
import { ApiError, harborErrorOf, sendHarborError } from './errors.js';
import { openApiDocument } from './openapi.js';
import { Router, parsePart, type ApiResponse, type Route } from './router.js';
import type { ApiServices } from './routes/common.js';
import { memberRoutes } from './routes/members.js';
import { projectRoutes } from './routes/projects.js';
import { immutableRoutes } from './routes/immutable.js';
import { repositoryRoutes } from './routes/repositories.js';
import { retentionRoutes } from './routes/retention.js';
import { robotRoutes } from './routes/robots.js';
import { sessionRoutes } from './routes/session.js';
import { systemRoutes } from './routes/system.js';
import { lifecycleRoutes } from './routes/lifecycle.js';
import { userRoutes } from './routes/users.js';
import { SessionCodec, cookie, csrfCookie, isSecure, sessionCookie } from './session.js';

export interface ApiOptions {
  metadata: MetadataStore;
  blobStore: BlobStore;
  registry: Registry;
  clock: Clock;
  hasher: PasswordHasher;
  /** Name-and-password logins behind the login limiter. */
  login: LoginPort;
  identity: SubjectRefresher;
  /** Called after writes that change who may do what, so that other caches (the /v2 side) are dropped. */
  onAccessChange?: () => void;
  version: string;
  storageDriver: string;
  externalUrl?: string;
  /** Session lifetime (sliding); default one hour. */
  sessionTtlMs?: number;
  robotDefaultDurationDays?: number;
  /** The job scheduler (GC runs and schedules); without it `/system/gc` cannot start runs. */
  jobs?: JobControl;
  /** Retention policies and executions; made here when not given (the composition root shares one with the scheduler). */
  retention?: RetentionService;
}

export const apiBasePath = '/api/v2.0';
const sessionKeySetting = 'api.session-key';
const emptyDigest = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' as Digest;

export interface ApiHandler {
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    log: Logger,
    fields: Record<string, unknown>,
  ): Promise<void>;
  routes: Route[];
}

/** `/api/v2.0` (Harbor's management API) and `/c` (portal sign-in), on one small router. */
export function createApiHandler(options: ApiOptions): ApiHandler {
  const { metadata, clock } = options;
  let codec: Promise<SessionCodec> | undefined;
  const sessions = (): Promise<SessionCodec> => {
    codec ??= metadata.settings
      .putIfAbsent(sessionKeySetting, randomBytes(32).toString('base64'))
      .then((key) => new SessionCodec(Buffer.from(key, 'base64'), options.sessionTtlMs ?? 60 * 60_000));
    codec.catch(() => (codec = undefined));
    return codec;
  };
  const auth = new ApiAuthenticator(options.login, options.identity, sessions, clock);
  const changed = () => {
    auth.invalidate();
    options.onAccessChange?.();
  };
  const projects = new ProjectService(metadata, clock, changed);
  const services: ApiServices = {
    clock,
    users: new UserService(metadata, options.hasher, clock, changed),
    projects,
    projectMetadata: new ProjectMetadataService(metadata, clock, changed),
    members: new MemberService(metadata, clock, changed),
    robots: new RobotService(metadata, options.hasher, clock, changed, {
      defaultDurationDays: options.robotDefaultDurationDays ?? 30,
    }),
    repositories: new RepositoryService(metadata, clock),
    artifacts: new ArtifactService(options.registry, metadata, options.blobStore, clock),
    search: new SearchService(projects, metadata, clock),
    retention: options.retention ?? new RetentionService(metadata, options.registry.manifests, clock),
    immutableRules: new ImmutableRuleService(metadata, clock),
    auth,
    sessions,
    system: {
      version: options.version,
      storageDriver: options.storageDriver,
      ...(options.externalUrl !== undefined && { externalUrl: options.externalUrl }),
      checks: {
        database: async () => void (await metadata.settings.get('health.probe')),
        storage: async () => void (await options.blobStore.stat(emptyDigest)),
      },
    },
  };
  let document: unknown;
  const apiRoutes: Route[] = [
    ...projectRoutes(services),
    ...memberRoutes(services),
    ...robotRoutes(services),
    ...userRoutes(services),
    ...repositoryRoutes(services),
    ...retentionRoutes(services),
    ...immutableRoutes(services),
    ...lifecycleRoutes(metadata, clock, options.jobs),
    ...systemRoutes(services, () => (document ??= openApiDocument(apiRoutes, options.version))),
  ];
  const api = new Router(apiRoutes);
  const portal = new Router(sessionRoutes(services));

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    log: Logger,
    fields: Record<string, unknown>,
  ) => {
    const method = req.method ?? 'GET';
    try {
      const path = requestPath(req.url);
      const match = path.startsWith(`${apiBasePath}/`)
        ? api.match(method, path.slice(apiBasePath.length))
        : portal.match(method, path);
      if (match.kind === 'none') throw new ApiError('NOT_FOUND', 'no such API endpoint');
      if (match.kind === 'method') {
        throw new ApiError('METHOD_NOT_ALLOWED', `${method} is not allowed here`, {
          Allow: match.allowed.join(', '),
        });
      }
      const r = match.route;
      fields.operation = r.operationId;
      const caller = await auth.authenticate(req);
      if (caller.subject.kind !== 'anonymous') fields.account = accountOf(caller);
      if (r.csrfExempt !== true) await auth.checkCsrf(req, caller);
      const url = new URL(req.url ?? '/', 'http://berth.invalid');
      const params = parsePart(r.params, match.params, 'path parameters');
      const query = parsePart(r.query, Object.fromEntries(url.searchParams), 'query');
      const headers = parsePart(r.headers, req.headers, 'headers');
      const rawBody =
        r.body === undefined ? undefined : r.bodyType === 'form' ? await readForm(req) : await readJson(req);
      const body = parsePart(r.body, rawBody, 'body');
      const response = await r.handler({
        req,
        res,
        url,
        log,
        subject: caller.subject,
        params,
        query,
        headers,
        body,
      });
      await send(res, method, response, await sessionHeaders(req, caller));
    } catch (error) {
      const harbor = harborErrorOf(error);
      if (harbor.status >= 500) log.error({ err: error }, 'management API failure');
      sendHarborError(res, harbor, method === 'HEAD');
    }
  };

  /** For session callers: the CSRF token header, and a renewed cookie once half the session has passed. */
  const sessionHeaders = async (
    req: IncomingMessage,
    caller: Caller,
  ): Promise<Record<string, string | string[]>> => {
    if (caller.via !== 'session' || caller.session === undefined) return {};
    const codec = await sessions();
    const headers: Record<string, string | string[]> = {
      'X-Harbor-CSRF-Token': codec.csrfToken(caller.session),
    };
    const now = clock.now();
    if (codec.needsRenewal(caller.session, now)) {
      const renewed = codec.renew(caller.session, now);
      const maxAge = Math.floor(codec.ttlMs / 1000);
      const secure = isSecure(req);
      headers['Set-Cookie'] = [
        cookie(sessionCookie, renewed.value, { httpOnly: true, secure, maxAge }),
        cookie(csrfCookie, codec.csrfToken(renewed.session), { httpOnly: false, secure, maxAge }),
      ];
    }
    return headers;
  };

  return { handle, routes: apiRoutes };
}

function accountOf(caller: Caller): string | undefined {
  const s = caller.subject;
  return s.kind === 'user' ? s.user.username : s.kind === 'robot' ? s.robot.name : undefined;
}

async function send(
  res: ServerResponse,
  method: string,
  response: ApiResponse,
  extra: Record<string, string | string[]>,
): Promise<void> {
  let payload: Buffer | undefined;
  let type = response.contentType;
  if (response.text !== undefined) {
    payload = Buffer.from(response.text);
    type ??= 'text/plain; charset=utf-8';
  } else if (response.body !== undefined) {
    payload = Buffer.from(JSON.stringify(response.body));
    type ??= 'application/json';
  }
  const headers: Record<string, string | string[]> = { ...extra, ...response.headers };
  const setCookie = [extra['Set-Cookie'], response.headers?.['Set-Cookie']]
    .flat()
    .filter((c) => c !== undefined);
  if (setCookie.length > 0) headers['Set-Cookie'] = setCookie;
  if (type !== undefined) headers['Content-Type'] = type;
  headers['Content-Length'] = String(payload?.length ?? 0);
  res.writeHead(response.status, headers);
  await new Promise<void>((done) => res.end(method === 'HEAD' ? undefined : payload, done));
}
