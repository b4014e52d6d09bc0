import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChartCatalog } from '../../core/charts/catalog.js';
import { chartVersionObject, type ChartVersionEntry } from '../../core/charts/index-file.js';
import type { ChartUploadService } from '../../core/charts/uploads.js';
import { resolveVersion } from '../../core/charts/versions.js';
import type { Subject } from '../../core/iam/policy.js';
import type { Digest } from '../../core/oci/digest.js';
import type { ChartAuthorizer } from './access.js';
import { readChartUpload, readSmallBody } from './body.js';
import { sendBlob, sendError, sendJson } from './respond.js';

export interface ChartHttpOptions {
  catalog: ChartCatalog;
  uploads: ChartUploadService;
  authorizer: ChartAuthorizer;
  /** Counts a chart download as a pull of its manifest. */
  pulls?: { record(repository: string, digest: Digest): void };
}

export interface ChartRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  project: string;
  subject: Subject;
  head: boolean;
  logFields: Record<string, unknown>;
}

const indexContentType = 'application/x-yaml';
const chartContentType = 'application/x-tar';
const provenanceContentType = 'application/pgp-signature';

/** GET `/chartrepo/{project}/index.yaml`: the classic repository index, with ETag revalidation. */
export async function getIndex(ctx: ChartRequest, options: ChartHttpOptions): Promise<void> {
  const { body, etag } = await options.catalog.index(ctx.project);
  if (ctx.req.headers['if-none-match'] === etag) {
    ctx.res.writeHead(304, { ETag: etag });
    ctx.res.end();
    return;
  }
  ctx.res.writeHead(200, {
    'Content-Type': indexContentType,
    'Content-Length': String(body.length),
    ETag: etag,
  });
  ctx.res.end(ctx.head ? undefined : body);
}

/** GET `/chartrepo/{project}/charts/<name>-<version>.tgz` (and `.tgz.prov`): the stored layer bytes. */
export async function getChartFile(
  ctx: ChartRequest,
  fileName: string,
  options: ChartHttpOptions,
): Promise<void> {
  const provenance = fileName.endsWith('.prov');
  const archiveName = provenance ? fileName.replace(/(\.tgz)?\.prov$/, '.tgz') : fileName;
  const entry = await options.catalog.findByFileName(ctx.project, archiveName);
  const blob = entry === undefined ? undefined : provenance ? entry.provenance : entry.chart;
  if (entry === undefined || blob === undefined)
    return sendError(ctx.res, 404, 'object not found', {}, ctx.head);
  const etag = `"${blob.digest}"`;
  if (ctx.req.headers['if-none-match'] === etag) {
    ctx.res.writeHead(304, { ETag: etag });
    ctx.res.end();
    return;
  }
  const reader = await options.catalog.open(blob);
  if (reader === undefined) return sendError(ctx.res, 404, 'object not found', {}, ctx.head);
  ctx.logFields.repository = entry.repository;
  const type = provenance ? provenanceContentType : chartContentType;
  ctx.logFields.bytesOut = await sendBlob(ctx.res, reader, { 'Content-Type': type, ETag: etag }, ctx.head);
  if (!provenance && !ctx.head) options.pulls?.record(entry.repository, entry.manifestDigest);
}

/** GET `/api/chartrepo/{project}/charts[?offset=&limit=]`: every chart with its versions. */
export async function listCharts(ctx: ChartRequest, options: ChartHttpOptions): Promise<void> {
  const offset = readNumber(ctx.url, 'offset', 0);
  const limit = readNumber(ctx.url, 'limit', -1);
  if (offset === undefined || offset < 0)
    return sendError(ctx.res, 400, 'offset is not a valid non-negative integer');
  if (limit === undefined || (ctx.url.searchParams.has('limit') && limit <= 0)) {
    return sendError(ctx.res, 400, 'limit is not a valid positive integer');
  }
  const charts = await options.catalog.charts(ctx.project);
  const names = [...charts.keys()];
  const page = limit === -1 ? names.slice(offset) : names.slice(offset, offset + limit);
  const body: Record<string, unknown[]> = {};
  for (const name of page) body[name] = (charts.get(name) ?? []).map(chartVersionObject);
  sendJson(ctx.res, 200, body, {}, ctx.head);
}

/** GET/HEAD `/api/chartrepo/{project}/charts/<name>`: the versions of one chart, newest first. */
export async function getChart(ctx: ChartRequest, name: string, options: ChartHttpOptions): Promise<void> {
  const versions = await options.catalog.versions(ctx.project, name);
  if (versions === undefined) return sendError(ctx.res, 404, 'chart not found', {}, ctx.head);
  sendJson(ctx.res, 200, versions.map(chartVersionObject), {}, ctx.head);
}

/** GET/HEAD `/api/chartrepo/{project}/charts/<name>/<version>` (`latest` is the newest stable version). */
export async function getChartVersion(
  ctx: ChartRequest,
  name: string,
  version: string,
  options: ChartHttpOptions,
): Promise<void> {
  const entry = await findVersion(options, ctx.project, name, version);
  if (entry === undefined)
    return sendError(ctx.res, 404, `no chart version found for ${name}-${version}`, {}, ctx.head);
  sendJson(ctx.res, 200, chartVersionObject(entry), {}, ctx.head);
}

/** DELETE `/api/chartrepo/{project}/charts/<name>/<version>`: removes the version from both views. */
export async function deleteChartVersion(
  ctx: ChartRequest,
  name: string,
  version: string,
  options: ChartHttpOptions,
): Promise<void> {
  await options.uploads.delete(ctx.project, name, version);
  ctx.logFields.repository = `${ctx.project}/${name}`;
  sendJson(ctx.res, 200, { deleted: true });
}

/** POST `/api/chartrepo/{project}/charts`: a raw `.tgz`, or a form with `chart` and/or `prov`. */
export async function postChart(ctx: ChartRequest, options: ChartHttpOptions): Promise<void> {
  const force = await mayForce(ctx, options);
  const upload = await readChartUpload(ctx.req);
  if (upload.chart !== undefined) {
    const saved = await options.uploads.upload(ctx.project, upload.chart, {
      force,
      ...(upload.provenance !== undefined && { provenance: upload.provenance }),
    });
    ctx.logFields.repository = saved.repository;
  } else if (upload.provenance !== undefined) {
    ctx.logFields.repository = (
      await options.uploads.uploadProvenance(ctx.project, upload.provenance, force)
    ).repository;
  } else {
    return sendError(ctx.res, 400, 'no package or provenance file found in form fields chart and prov');
  }
  sendJson(ctx.res, 201, { saved: true });
}

/** POST `/api/chartrepo/{project}/prov`: a provenance file for a chart version already stored. */
export async function postProvenance(ctx: ChartRequest, options: ChartHttpOptions): Promise<void> {
  const force = await mayForce(ctx, options);
  const type = (ctx.req.headers['content-type'] ?? '').toLowerCase();
  const content = type.startsWith('multipart/form-data')
    ? (await readChartUpload(ctx.req)).provenance
    : await readSmallBody(ctx.req, 1024 * 1024);
  if (content === undefined) return sendError(ctx.res, 400, 'no provenance file found in form field prov');
  ctx.logFields.repository = (await options.uploads.uploadProvenance(ctx.project, content, force)).repository;
  sendJson(ctx.res, 201, { saved: true });
}

/** `?force` replaces an existing version only for callers who may also delete in the project. */
async function mayForce(ctx: ChartRequest, options: ChartHttpOptions): Promise<boolean> {
  if (!ctx.url.searchParams.has('force')) return false;
  return options.authorizer.may(ctx.subject, ctx.project, 'delete');
}

async function findVersion(
  options: ChartHttpOptions,
  project: string,
  name: string,
  version: string,
): Promise<ChartVersionEntry | undefined> {
  const versions = await options.catalog.versions(project, name);
  if (versions === undefined) return undefined;
  const wanted =
    version === 'latest'
      ? resolveVersion(
          versions.map((v) => v.metadata.version),
          undefined,
        )
      : version;
  return versions.find((entry) => entry.metadata.version === wanted);
}

function readNumber(url: URL, key: string, fallback: number): number | undefined {
  const value = url.searchParams.get(key);
  if (value === null) return fallback;
  return /^-?[0-9]{1,9}$/.test(value) ? Number(value) : undefined;
}
