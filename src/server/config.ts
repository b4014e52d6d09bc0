import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** A backend section whose `driver` may be left out (the embedded one), or the section left out whole. */
function withDefaultDriver<T extends z.ZodType>(driver: string, schema: T) {
  return z.preprocess((value) => {
    if (value === undefined || value === null) return { driver };
    if (typeof value === 'object' && !Array.isArray(value) && !('driver' in value)) return { driver, ...value };
    return value;
  }, schema);
}

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
const environmentKeys: Record<string, string[]> = {
  BERTH_HOST: ['server', 'host'],
  BERTH_PORT: ['server', 'port'],
  BERTH_DATA: ['data'],
  BERTH_LOG_LEVEL: ['log', 'level'],
  BERTH_STORAGE_PATH: ['storage', 'path'],
  BERTH_METADATA_PATH: ['metadata', 'path'],
  BERTH_MAX_MANIFEST_BYTES: ['registry', 'maxManifestBytes'],
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
