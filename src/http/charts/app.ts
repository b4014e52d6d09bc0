import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isRegistryError } from '../../core/errors.js';
import { requestPath } from '../oci/routes.js';
import type { ChartAction } from './access.js';
import {
  deleteChartVersion,
  getChart,
  getChartFile,
  getChartVersion,
  getIndex,
  listCharts,
  postChart,
  postProvenance,
  type ChartHttpOptions,
  type ChartRequest,
} from './handlers.js';
import { chartErrorStatus, sendError } from './respond.js';

type ChartRoute =
  | { kind: 'index'; project: string }
  | { kind: 'file'; project: string; file: string }
  | { kind: 'charts'; project: string }
  | { kind: 'chart'; project: string; name: string }
  | { kind: 'version'; project: string; name: string; version: string }
  | { kind: 'prov'; project: string };

/** Methods per route, and the repository actions each needs (as on `/v2`). */
const methods: Record<ChartRoute['kind'], Record<string, ChartAction[]>> = {
  index: { GET: ['pull'], HEAD: ['pull'] },
  file: { GET: ['pull'], HEAD: ['pull'] },
  charts: { GET: ['pull'], HEAD: ['pull'], POST: ['push'] },
  chart: { GET: ['pull'], HEAD: ['pull'] },
  version: { GET: ['pull'], HEAD: ['pull'], DELETE: ['delete'] },
  prov: { POST: ['push'] },
};

const projectGrammar = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

/** Whether a path belongs to the chart repository edges. */
export function isChartPath(path: string): boolean {
  return path.startsWith('/chartrepo/') || path.startsWith('/api/chartrepo/');
}

/**
 * The Helm chart repository edges, both derived from the OCI charts of a project: the classic repository
 * `/chartrepo/{project}/` (index.yaml and archives, what `helm repo add` reads) and the ChartMuseum API
 * `/api/chartrepo/{project}/charts` (what Harbor 2.7 and `helm cm-push` speak). Errors are `{"error": …}`.
 */
export function createChartHandler(options: ChartHttpOptions) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    log: Logger,
    logFields: Record<string, unknown>,
  ): Promise<void> => {
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    try {
      const route = matchChartRoute(requestPath(req.url));
      if (route === undefined) return sendError(res, 404, 'not found', {}, head);
      const actions = methods[route.kind][method];
      if (actions === undefined) {
        return sendError(
          res,
          405,
          `${method} is not supported here`,
          { Allow: Object.keys(methods[route.kind]).join(', ') },
          head,
        );
      }
      logFields.project = route.project;
      const decision = await options.authorizer.authorize(req, route.project, actions);
      if (!decision.ok) return sendError(res, decision.status, decision.message, decision.headers, head);
      if (decision.account !== undefined) logFields.account = decision.account;
      const ctx: ChartRequest = {
        req,
        res,
        url,
        project: route.project,
        subject: decision.subject,
        head,
        logFields,
      };
      switch (route.kind) {
        case 'index':
          return await getIndex(ctx, options);
        case 'file':
          return await getChartFile(ctx, route.file, options);
        case 'charts':
          return method === 'POST' ? await postChart(ctx, options) : await listCharts(ctx, options);
        case 'chart':
          return await getChart(ctx, route.name, options);
        case 'version':
          return method === 'DELETE'
            ? await deleteChartVersion(ctx, route.name, route.version, options)
            : await getChartVersion(ctx, route.name, route.version, options);
        case 'prov':
          return await postProvenance(ctx, options);
      }
    } catch (error) {
      if (isRegistryError(error))
        return sendError(res, chartErrorStatus(error.code), error.message, {}, head);
      if (req.destroyed || (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') {
        logFields.aborted = true;
        return;
      }
      log.error({ err: error }, 'unexpected failure');
      sendError(res, 500, 'internal error', {}, head);
    }
  };
}

function matchChartRoute(path: string): ChartRoute | undefined {
  const parts = path.split('/').slice(1);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  const decoded = parts.map(safeDecode);
  if (decoded.some((part) => part === undefined || part === '')) return undefined;
  const segments = decoded as string[];
  if (segments[0] === 'chartrepo') {
    const project = segments[1];
    if (project === undefined || !projectGrammar.test(project)) return undefined;
    if (segments.length === 3 && segments[2] === 'index.yaml') return { kind: 'index', project };
    if (segments.length === 4 && segments[2] === 'charts')
      return { kind: 'file', project, file: segments[3]! };
    return undefined;
  }
  if (segments[0] !== 'api' || segments[1] !== 'chartrepo') return undefined;
  const project = segments[2];
  if (project === undefined || !projectGrammar.test(project)) return undefined;
  if (segments.length === 4 && segments[3] === 'prov') return { kind: 'prov', project };
  if (segments[3] !== 'charts') return undefined;
  if (segments.length === 4) return { kind: 'charts', project };
  if (segments.length === 5) return { kind: 'chart', project, name: segments[4]! };
  if (segments.length === 6) return { kind: 'version', project, name: segments[4]!, version: segments[5]! };
  return undefined;
}

function safeDecode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}
