import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ChartCatalog } from '../core/charts/catalog.js';
import { ChartUploadService } from '../core/charts/uploads.js';
import type { Registry } from '../core/content/registry.js';
import type { BlobStore, Clock, MetadataStore } from '../core/ports.js';
import { ChartAuthorizer } from '../http/charts/access.js';
import { createChartHandler } from '../http/charts/app.js';
import type { AuthServices } from './auth.js';
import type { BerthConfig } from './config.js';

export type ChartHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  log: Logger,
  fields: Record<string, unknown>,
) => Promise<void>;

/** Wires the Helm chart repository edges (`/chartrepo`, `/api/chartrepo`) over the registry's OCI charts. */
export function createCharts(
  config: BerthConfig,
  registry: Registry,
  blobStore: BlobStore,
  metadata: MetadataStore,
  auth: AuthServices,
  clock: Clock,
): { catalog: ChartCatalog; uploads: ChartUploadService; handler: ChartHandler } {
  const catalog = new ChartCatalog(metadata, blobStore, registry.manifests, clock);
  const uploads = new ChartUploadService(blobStore, metadata, registry.manifests, clock);
  const authorizer = new ChartAuthorizer({
    enabled: config.auth.enabled,
    login: auth.login,
    access: auth.access,
    subjects: auth.subjects,
    clock,
  });
  const handler = createChartHandler({ catalog, uploads, authorizer, pulls: registry.pulls });
  return { catalog, uploads, handler };
}
