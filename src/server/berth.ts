import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Registry } from '../core/content/registry.js';
import { RetentionService } from '../core/lifecycle/retention/service.js';
import { systemClock, type BlobStore, type Clock, type MetadataStore } from '../core/ports.js';
import { createApiHandler } from '../http/api/app.js';
import type { V2Authorizer } from '../http/oci/access.js';
import { createV2Handler } from '../http/oci/app.js';
import { sendJson } from '../http/oci/context.js';
import { isChartPath } from '../http/charts/app.js';
import { requestPath } from '../http/oci/routes.js';
import { createAuth, type AuthServices } from './auth.js';
import { openBlobStore, openMetadataStore } from './backends.js';
import { bootstrap } from './bootstrap.js';
import { createCharts } from './charts.js';
import type { BerthConfig } from './config.js';
import { createLogger } from './logger.js';
import { createScheduler } from './jobs.js';
import { registerRetentionSchedules } from './retention-schedule.js';
import type { Scheduler } from '../jobs/scheduler.js';

export interface BerthOptions {
  logger?: Logger;
  clock?: Clock;
  authorizer?: V2Authorizer;
  /** Where the first start shows a generated admin password (default: standard output). */
  print?: (text: string) => void;
}

/** A running Berth: its server, stores and the way to stop it. */
export interface Berth {
  server: Server;
  url: string;
  port: number;
  registry: Registry;
  blobStore: BlobStore;
  metadata: MetadataStore;
  /** Password hashing, identity and access services (shared by every edge). */
  auth: AuthServices;
  logger: Logger;
  /** Background jobs: GC, upload purge, quota recount. */
  scheduler: Scheduler;
  /** Tag retention; the job scheduler registers its crons (see server/retention-schedule.ts). */
  retention: RetentionService;
  stop(): Promise<void>;
}

/** The composition root: builds the stores from the config, wires the use cases and the HTTP edges, listens. */
export async function startBerth(config: BerthConfig, options: BerthOptions = {}): Promise<Berth> {
  const logger = options.logger ?? createLogger(config.log.level);
  const blobStore = await openBlobStore(config);
  const metadata = await openMetadataStore(config);
  const clock = options.clock ?? systemClock;
  const auth = await createAuth(config, metadata, clock);
  if (config.auth.enabled) await bootstrap(config, metadata, auth.services.hasher, clock, logger, options);
  const registry = new Registry(blobStore, metadata, clock, {
    maxManifestBytes: config.registry.maxManifestBytes,
    cacheBytes: config.registry.manifestCacheBytes,
  });
  const retention = new RetentionService(metadata, registry.manifests, clock, (err: unknown) =>
    logger.error({ err }, 'retention execution failed'),
  );
  const scheduler = createScheduler(config, blobStore, metadata, clock, logger);
  const api = createApiHandler({
    jobs: scheduler,
    retention,
    metadata,
    blobStore,
    registry,
    clock,
    hasher: auth.services.hasher,
    login: auth.services.login,
    identity: auth.services.identity,
    onAccessChange: () => {
      auth.services.access.invalidate();
      auth.services.subjects.invalidate();
    },
    version: '0.1.0',
    storageDriver: config.storage.driver,
    ...(config.auth.externalUrl !== undefined && { externalUrl: config.auth.externalUrl }),
  });
  const charts = createCharts(config, registry, blobStore, metadata, auth.services, clock);
  const v2 = createV2Handler({
    registry,
    authorizer: options.authorizer ?? auth.authorizer,
    maxManifestBytes: config.registry.maxManifestBytes,
  });

  let nextRequestId = 0;
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://berth.invalid');
    const id = (++nextRequestId).toString(36);
    const fields: Record<string, unknown> = {};
    const log = logger.child({ reqId: id });
    res.once('close', () => {
      log.info(
        {
          method: req.method,
          path: url.pathname,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          ...fields,
        },
        'request',
      );
    });
    const path = requestPath(req.url);
    if (path === '/v2' || path.startsWith('/v2/')) {
      void v2(req, res, url, log, fields);
    } else if (url.pathname === '/service/token' && auth.tokenEndpoint !== undefined) {
      void auth.tokenEndpoint(req, res, url, log, fields);
    } else if (isChartPath(path)) {
      void charts.handler(req, res, url, log, fields);
    } else if (path.startsWith('/api/') || path.startsWith('/c/')) {
      void api.handle(req, res, log, fields);
    } else if (url.pathname === '/health') {
      sendJson(res, 200, { status: 'healthy' });
    } else {
      sendJson(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] });
    }
  };

  const server = createServer(
    { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 },
    handle,
  );
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(config.server.port, config.server.host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  await registerRetentionSchedules(scheduler, retention, clock, (err: unknown) =>
    logger.error({ err }, 'retention schedule update failed'),
  );
  await scheduler.start();
  const shownHost =
    config.server.host === '0.0.0.0' || config.server.host === '::' ? 'localhost' : config.server.host;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      // A keep-alive connection whose response was still finishing when close() ran turns idle only
      // afterwards; sweep again so that it does not hold the shutdown for the whole grace period.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const grace = setTimeout(() => server.closeAllConnections(), config.server.shutdownGraceMs);
      await closed;
      clearInterval(sweep);
      clearTimeout(grace);
      await scheduler.close();
      await retention.runner.idle();
      await registry.close();
      await metadata.close();
      await blobStore.close();
    })();
    return stopping;
  };

  return {
    server,
    url: `http://${shownHost}:${port}`,
    port,
    registry,
    blobStore,
    metadata,
    auth: auth.services,
    logger,
    scheduler,
    retention,
    stop,
  };
}
