import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isRegistryError } from '../../core/errors.js';
import type { Registry } from '../../core/content/registry.js';
import { isRepositoryName } from '../../core/oci/names.js';
import type { V2Authorizer, V2Scope } from './access.js';
import { deleteBlob, getBlob } from './blobs.js';
import { sendJson, type V2Context } from './context.js';
import { sendOciError } from './errors.js';
import { listCatalog, listReferrers, listTags } from './listing.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { actionsFor, matchV2Route, requestPath, type V2Route } from './routes.js';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from './uploads.js';

export interface V2Options {
  registry: Registry;
  authorizer: V2Authorizer;
  maxManifestBytes: number;
}

/** Methods each route answers; anything else is 405 UNSUPPORTED. */
const allowed: Record<V2Route['kind'], string[]> = {
  base: ['GET', 'HEAD'],
  catalog: ['GET'],
  tags: ['GET'],
  manifest: ['GET', 'HEAD', 'PUT', 'DELETE'],
  blob: ['GET', 'HEAD', 'DELETE'],
  uploads: ['POST'],
  upload: ['GET', 'PATCH', 'PUT', 'DELETE'],
  referrers: ['GET'],
};

const decisionCodes = { 401: 'UNAUTHORIZED', 403: 'DENIED', 429: 'TOOMANYREQUESTS' } as const;

/** The `/v2` API: routes a request, asks the authorizer, runs the handler, maps domain errors to OCI JSON. */
export function createV2Handler(options: V2Options) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    log: Logger,
    logFields: Record<string, unknown>,
  ) => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    try {
      const path = requestPath(req.url);
      const route = matchV2Route(path);
      if (route === undefined)
        return sendOciError(res, 'NAME_UNKNOWN', 'no such endpoint or repository', {
          path: path.slice(0, 300),
        });
      if (!allowed[route.kind].includes(req.method ?? '')) {
        return sendOciError(res, 'UNSUPPORTED', `${req.method} is not supported here`, undefined, {
          Allow: allowed[route.kind].join(', '),
        });
      }
      if ('name' in route) {
        logFields.repository = route.name;
        if (!isRepositoryName(route.name)) {
          return sendOciError(res, 'NAME_INVALID', 'invalid repository name', {
            name: route.name.slice(0, 300),
          });
        }
      }
      const decision = await options.authorizer.authorize(req, scopeOf(route, req.method ?? 'GET'));
      if (!decision.ok) {
        return sendOciError(
          res,
          decisionCodes[decision.status],
          decision.message,
          undefined,
          decision.headers,
        );
      }
      if (decision.account !== undefined) logFields.account = decision.account;
      const ctx: V2Context = {
        req,
        res,
        url,
        registry: options.registry,
        access: decision.access,
        logFields,
      };
      await dispatch(ctx, route, req.method ?? 'GET', options);
    } catch (error) {
      if (isRegistryError(error)) return sendOciError(res, error.code, error.message, error.detail);
      if (isClientGone(error, req)) {
        logFields.aborted = true;
        return;
      }
      log.error({ err: error }, 'unexpected failure');
      sendOciError(res, 'UNKNOWN', 'internal error');
    }
  };
}

function scopeOf(route: V2Route, method: string): V2Scope {
  if (route.kind === 'base') return { type: 'base' };
  if (route.kind === 'catalog') return { type: 'registry', name: 'catalog', actions: ['*'] };
  return { type: 'repository', name: route.name, actions: actionsFor(method) };
}

async function dispatch(ctx: V2Context, route: V2Route, method: string, options: V2Options): Promise<void> {
  switch (route.kind) {
    case 'base':
      return sendJson(ctx.res, 200, {});
    case 'catalog':
      return listCatalog(ctx);
    case 'tags':
      return listTags(ctx, route.name);
    case 'referrers':
      return listReferrers(ctx, route.name, route.digest);
    case 'manifest':
      if (method === 'PUT') return putManifest(ctx, route.name, route.reference, options.maxManifestBytes);
      if (method === 'DELETE') return deleteManifest(ctx, route.name, route.reference);
      return getManifest(ctx, route.name, route.reference, method === 'HEAD');
    case 'blob':
      if (method === 'DELETE') return deleteBlob(ctx, route.name, route.digest);
      return getBlob(ctx, route.name, route.digest, method === 'HEAD');
    case 'uploads':
      return startUpload(ctx, route.name);
    case 'upload':
      if (method === 'PATCH') return patchUpload(ctx, route.name, route.id);
      if (method === 'PUT') return finishUpload(ctx, route.name, route.id);
      if (method === 'DELETE') return cancelUpload(ctx, route.name, route.id);
      return uploadStatus(ctx, route.name, route.id);
  }
}

/** A request stream that failed because the client went away: nothing to answer. */
function isClientGone(error: unknown, req: IncomingMessage): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    req.destroyed ||
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'ERR_STREAM_DESTROYED'
  );
}
