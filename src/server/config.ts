import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** A backend section whose `driver` may be left out (the embedded one), or the section left out whole. */
function withDefaultDriver<T extends z.ZodType>(driver: string, schema: T) {
  return z.preprocess((value) => {
    if (value === undefined || value === null) return { driver };
    if (typeof value === 'object' && !Array.isArray(value) && !('driver' in value))
      return { driver, ...value };
    return value;
  }, schema);
}

/** `true`/`false` (and `1`/`0`, `yes`/`no`) from the environment as booleans; anything else fails. */
const flag = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (word === 'true' || word === '1' || word === 'yes') return true;
  if (word === 'false' || word === '0' || word === 'no') return false;
  return value;
}, z.boolean());

/** Berth's whole configuration. Every field has a default that runs on a laptop. */
export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().min(1).default('0.0.0.0'),
        port: z.coerce.number().int().min(0).max(65535).default(5000),
        /** How long SIGTERM waits for requests in flight before closing connections. */
        shutdownGraceMs: z.coerce.number().int().min(0).default(10_000),
      })
      .strict()
      .prefault({}),
    /** Folder for everything the embedded backends keep. */
    data: z.string().min(1).default('./data'),
    storage: withDefaultDriver(
      'filesystem',
      z.discriminatedUnion('driver', [
        z.object({ driver: z.literal('filesystem'), path: z.string().min(1).optional() }).strict(),
        z
          .object({
            driver: z.literal('s3'),
            bucket: z.string().min(1),
            endpoint: z.url().optional(),
            region: z.string().min(1).default('us-east-1'),
            accessKeyId: z.string().min(1).optional(),
            secretAccessKey: z.string().min(1).optional(),
            forcePathStyle: z.boolean().default(false),
            prefix: z.string().default(''),
            /** Answer blob GETs with 307 to a presigned URL, so pulls do not pass through Berth. */
            redirect: z.boolean().default(false),
          })
          .strict(),
      ]),
    ),
    metadata: withDefaultDriver(
      'sqlite',
      z.discriminatedUnion('driver', [
        z.object({ driver: z.literal('sqlite'), path: z.string().min(1).optional() }).strict(),
        z.object({ driver: z.literal('postgres'), url: z.string().min(1) }).strict(),
      ]),
    ),
    registry: z
      .object({
        maxManifestBytes: z.coerce
          .number()
          .int()
          .positive()
          .default(4 * 1024 * 1024),
        manifestCacheBytes: z.coerce
          .number()
          .int()
          .min(0)
          .default(64 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /**
         * false turns authentication off altogether: anyone who reaches the port may push, pull and
         * delete anything. For local experiments only; never expose such a Berth to a network.
         */
        enabled: flag.default(true),
        /** Lifetime of the registry tokens `/service/token` issues. */
        tokenLifetimeSeconds: z.coerce.number().int().min(60).max(86_400).default(300),
        /** Lifetime of refresh tokens (offline access, as `docker login` keeps them). */
        refreshTokenLifetimeSeconds: z.coerce
          .number()
          .int()
          .min(60)
          .default(30 * 24 * 3600),
        /** Base URL clients use to reach Berth (token realm); derived from each request's Host when absent. */
        externalUrl: z.url({ protocol: /^https?$/ }).optional(),
        /** The `service` of the token challenge and the audience of tokens. */
        service: z
          .string()
          .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, ".", "_", ":" and "-" only')
          .default('berth'),
        /** Password given to `admin` when it is created at the first start; random (and printed) when absent. */
        adminPassword: z
          .string()
          .refine(
            (value) =>
              value.length >= 8 &&
              value.length <= 128 &&
              /[a-z]/.test(value) &&
              /[A-Z]/.test(value) &&
              /[0-9]/.test(value),
            '8 to 128 characters with an upper-case letter, a lower-case letter and a digit',
          )
          .optional(),
      })
      .strict()
      .prefault({}),
    lifecycle: z
      .object({
        /** GC keeps blobs written, and links and manifests made, within this window (default 2 h). */
        gcGraceSeconds: z.coerce
          .number()
          .int()
          .min(0)
          .default(2 * 3600),
        /** Upload sessions older than this are purged with their bytes (default 24 h). */
        uploadTtlSeconds: z.coerce
          .number()
          .int()
          .min(60)
          .default(24 * 3600),
        /** How often the scheduler looks for due schedules. */
        schedulerTickSeconds: z.coerce.number().int().min(0).default(30),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type BerthConfig = z.infer<typeof configSchema>;

/** Environment variables that override the file, and the key each sets. */
export const environmentKeys: Record<string, string[]> = {
  BERTH_HOST: ['server', 'host'],
  BERTH_PORT: ['server', 'port'],
  BERTH_DATA: ['data'],
  BERTH_LOG_LEVEL: ['log', 'level'],
  BERTH_STORAGE_PATH: ['storage', 'path'],
  BERTH_METADATA_PATH: ['metadata', 'path'],
  // A secret (it holds the password): a deployment passes it from its secret store, not in the file.
  BERTH_METADATA_URL: ['metadata', 'url'],
  BERTH_MAX_MANIFEST_BYTES: ['registry', 'maxManifestBytes'],
  BERTH_GC_GRACE_SECONDS: ['lifecycle', 'gcGraceSeconds'],
  BERTH_UPLOAD_TTL_SECONDS: ['lifecycle', 'uploadTtlSeconds'],
  BERTH_AUTH_ENABLED: ['auth', 'enabled'],
  BERTH_EXTERNAL_URL: ['auth', 'externalUrl'],
  BERTH_TOKEN_LIFETIME_SECONDS: ['auth', 'tokenLifetimeSeconds'],
  BERTH_ADMIN_PASSWORD: ['auth', 'adminPassword'],
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Command-line flags, the strongest source, as key paths. */
  overrides?: [string[], unknown][];
}

/** Merges file, environment and flags (in rising priority) and validates the result. */
export function loadConfig(sources: ConfigSources = {}): BerthConfig {
  const raw = sources.file === undefined ? {} : readConfigFile(sources.file);
  for (const [name, path] of Object.entries(environmentKeys)) {
    const value = sources.env?.[name];
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }
  for (const [path, value] of sources.overrides ?? []) if (value !== undefined) setPath(raw, path, value);
  return validateConfig(raw);
}

export function validateConfig(raw: unknown): BerthConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map(
        (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${issue.message}`,
      ),
    );
  }
  return result.data;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read ${file}: ${(error as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError([`${file} is not valid YAML: ${(error as Error).message}`]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError([`${file}: expected a mapping at the top level`]);
  return parsed as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Where the embedded backends keep their files (when they are the ones configured). */
export function resolvePaths(config: BerthConfig): { blobs: string; database: string } {
  const data = resolve(config.data);
  const storagePath = config.storage.driver === 'filesystem' ? config.storage.path : undefined;
  const databasePath = config.metadata.driver === 'sqlite' ? config.metadata.path : undefined;
  return {
    blobs: resolve(storagePath ?? `${data}/storage`),
    database: resolve(databasePath ?? `${data}/metadata/berth.db`),
  };
}
