import { parse as parseYaml } from 'yaml';
import { isStrictSemver } from './versions.js';

/**
 * The Chart.yaml model (Helm's `chart.Metadata`), with only the fields Helm knows. Keys are declared in
 * the order Helm's Go struct declares them, which is the order of its JSON (the OCI config blob).
 */
export interface ChartMaintainer {
  name?: string;
  email?: string;
  url?: string;
}

export interface ChartDependency {
  name: string;
  version?: string;
  repository: string;
  condition?: string;
  tags?: string[];
  enabled?: boolean;
  'import-values'?: unknown[];
  alias?: string;
}

export interface ChartMetadata {
  name: string;
  home?: string;
  sources?: string[];
  version: string;
  description?: string;
  keywords?: string[];
  maintainers?: ChartMaintainer[];
  icon?: string;
  apiVersion: 'v1' | 'v2';
  condition?: string;
  tags?: string;
  appVersion?: string;
  deprecated?: boolean;
  annotations?: Record<string, string>;
  kubeVersion?: string;
  dependencies?: ChartDependency[];
  type?: string;
}

/** A chart that breaks Helm's rules; the message says which rule, for the client. */
export class ChartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChartError';
  }
}

type Json = Record<string, unknown>;

const aliasGrammar = /^[a-zA-Z0-9_-]+$/;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Helm's sanitising of free text: white space becomes a plain space and characters that are not
 * printable are dropped (Go's `unicode.IsSpace` and `unicode.IsPrint`).
 */
export function sanitize(text: string): string {
  return text
    .replace(/[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/g, ' ')
    .replace(/[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/gu, '');
}

/** Parses Chart.yaml text and validates it as Helm does (strictly for the version: SemVer 2). */
export function parseChartYaml(text: string): ChartMetadata {
  let raw: unknown;
  try {
    raw = parseYaml(text.replace(/^\uFEFF/, ''), { maxAliasCount: 100, uniqueKeys: false });
  } catch (error) {
    throw new ChartError(`Chart.yaml is not valid YAML: ${firstLine((error as Error).message)}`);
  }
  if (!isObject(raw)) throw new ChartError('Chart.yaml must be a mapping');
  return readMetadata(raw, 'Chart.yaml');
}

/**
 * Reads chart metadata from a parsed object (Chart.yaml, or the JSON of an OCI chart config), keeping only
 * the fields Helm knows, and validates it. `where` names the source in error messages.
 */
export function readMetadata(raw: Json, where: string): ChartMetadata {
  const text = (key: string): string | undefined => optionalString(raw, key, where);
  const apiVersion = text('apiVersion') ?? 'v1';
  if (apiVersion !== 'v1' && apiVersion !== 'v2') {
    throw new ChartError(
      `${where}: apiVersion "${clip(apiVersion)}" is not supported (use v2, or v1 for legacy charts)`,
    );
  }
  const name = sanitize(text('name') ?? '');
  if (name === '') throw new ChartError(`${where}: name is required`);
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\\')) {
    throw new ChartError(`${where}: name "${clip(name)}" is not allowed`);
  }
  if (typeof raw.version === 'number') {
    throw new ChartError(`${where}: version ${raw.version} is not a valid SemVer 2 version (like 1.2.3)`);
  }
  const version = text('version');
  if (version === undefined || version === '') throw new ChartError(`${where}: version is required`);
  if (!isStrictSemver(version)) {
    throw new ChartError(`${where}: version "${clip(version)}" is not a valid SemVer 2 version (like 1.2.3)`);
  }
  const type = text('type');
  if (type !== undefined && type !== '' && type !== 'application' && type !== 'library') {
    throw new ChartError(`${where}: type must be application or library`);
  }
  const metadata: ChartMetadata = { name, version, apiVersion };
  assignText(metadata, 'home', text('home'));
  assignList(metadata, 'sources', stringList(raw, 'sources', where)?.map(sanitize));
  assignText(metadata, 'description', text('description'));
  assignList(metadata, 'keywords', stringList(raw, 'keywords', where)?.map(sanitize));
  assignList(metadata, 'maintainers', readMaintainers(raw.maintainers, where));
  assignText(metadata, 'icon', text('icon'));
  assignText(metadata, 'condition', text('condition'));
  assignText(metadata, 'tags', text('tags'));
  assignText(metadata, 'appVersion', text('appVersion'));
  if (raw.deprecated !== undefined && raw.deprecated !== null) {
    if (typeof raw.deprecated !== 'boolean')
      throw new ChartError(`${where}: deprecated must be true or false`);
    if (raw.deprecated) metadata.deprecated = true;
  }
  const annotations = readAnnotations(raw.annotations, where);
  if (annotations !== undefined) metadata.annotations = annotations;
  assignText(metadata, 'kubeVersion', text('kubeVersion'));
  assignList(metadata, 'dependencies', readDependencies(raw.dependencies, where));
  if (type !== undefined && type !== '') metadata.type = type;
  return metadata;
}

function assignText<K extends keyof ChartMetadata>(
  target: ChartMetadata,
  key: K,
  value: string | undefined,
): void {
  if (value === undefined) return;
  const clean = sanitize(value);
  if (clean !== '') (target as unknown as Json)[key] = clean;
}

function assignList<K extends keyof ChartMetadata>(
  target: ChartMetadata,
  key: K,
  value: unknown[] | undefined,
): void {
  if (value !== undefined && value.length > 0) (target as unknown as Json)[key] = value;
}

function optionalString(raw: Json, key: string, where: string): string | undefined {
  const value = raw[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ChartError(`${where}: ${key} must be a string (quote it)`);
  return value;
}

function stringList(raw: Json, key: string, where: string): string[] | undefined {
  const value = raw[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new ChartError(`${where}: ${key} must be a list of strings`);
  }
  return value;
}

function readMaintainers(value: unknown, where: string): ChartMaintainer[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new ChartError(`${where}: maintainers must be a list`);
  return value.map((entry, i) => {
    if (!isObject(entry)) throw new ChartError(`${where}: maintainers[${i}] must be a mapping`);
    const maintainer: ChartMaintainer = {};
    for (const key of ['name', 'email', 'url'] as const) {
      const text = optionalString(entry, key, `${where}: maintainers[${i}]`);
      if (text !== undefined && sanitize(text) !== '') maintainer[key] = sanitize(text);
    }
    return maintainer;
  });
}

function readAnnotations(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new ChartError(`${where}: annotations must be a mapping of strings`);
  const entries = Object.entries(value);
  if (entries.length === 0) return undefined;
  const annotations: Record<string, string> = {};
  for (const [key, text] of entries) {
    if (typeof text !== 'string')
      throw new ChartError(`${where}: annotation "${clip(key)}" must be a string (quote it)`);
    annotations[key] = text;
  }
  return annotations;
}

function readDependencies(value: unknown, where: string): ChartDependency[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new ChartError(`${where}: dependencies must be a list`);
  const seen = new Set<string>();
  return value.map((entry, i) => {
    const at = `${where}: dependencies[${i}]`;
    if (!isObject(entry)) throw new ChartError(`${at} must be a mapping`);
    const dependency: ChartDependency = {
      name: sanitize(optionalString(entry, 'name', at) ?? ''),
      repository: sanitize(optionalString(entry, 'repository', at) ?? ''),
    };
    const version = optionalString(entry, 'version', at);
    if (version !== undefined && sanitize(version) !== '') dependency.version = sanitize(version);
    const condition = optionalString(entry, 'condition', at);
    if (condition !== undefined && sanitize(condition) !== '') dependency.condition = sanitize(condition);
    const tags = stringList(entry, 'tags', at);
    if (tags !== undefined && tags.length > 0) dependency.tags = tags.map(sanitize);
    if (entry.enabled !== undefined && entry.enabled !== null) {
      if (typeof entry.enabled !== 'boolean') throw new ChartError(`${at}: enabled must be true or false`);
      if (entry.enabled) dependency.enabled = true;
    }
    const importValues = entry['import-values'];
    if (importValues !== undefined && importValues !== null) {
      if (!Array.isArray(importValues)) throw new ChartError(`${at}: import-values must be a list`);
      if (importValues.length > 0) dependency['import-values'] = importValues;
    }
    const alias = optionalString(entry, 'alias', at);
    if (alias !== undefined && alias !== '') {
      if (!aliasGrammar.test(alias))
        throw new ChartError(
          `${at}: dependency "${clip(dependency.name)}" has disallowed characters in the alias`,
        );
      dependency.alias = alias;
    }
    const key = dependency.alias ?? dependency.name;
    if (seen.has(key))
      throw new ChartError(`${where}: more than one dependency with name or alias "${clip(key)}"`);
    seen.add(key);
    return dependency;
  });
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

function firstLine(text: string): string {
  return clip(text.split('\n', 1)[0] ?? text);
}
