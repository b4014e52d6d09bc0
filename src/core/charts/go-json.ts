import type { ChartDependency, ChartMaintainer, ChartMetadata } from './metadata.js';

/**
 * JSON exactly as Go's `encoding/json` writes it, so that the bytes Berth writes for a chart (the OCI
 * config and manifest) are the bytes Helm would write: struct fields in declaration order, map keys
 * sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped. Build the value with keys already in Go's order.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A copy of a plain JSON value with every object's keys sorted (how Go marshals `map[string]any`). */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortedKeys((value as Record<string, unknown>)[key]);
  return out;
}

/** Chart metadata with its keys in the order of Helm's `chart.Metadata` struct (empty fields left out). */
export function metadataInGoOrder(meta: ChartMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (key: string, value: unknown): void => {
    if (value === undefined || value === '' || value === false) return;
    if (Array.isArray(value) && value.length === 0) return;
    out[key] = value;
  };
  put('name', meta.name);
  put('home', meta.home);
  put('sources', meta.sources);
  put('version', meta.version);
  put('description', meta.description);
  put('keywords', meta.keywords);
  put('maintainers', meta.maintainers?.map(maintainerInGoOrder));
  put('icon', meta.icon);
  put('apiVersion', meta.apiVersion);
  put('condition', meta.condition);
  put('tags', meta.tags);
  put('appVersion', meta.appVersion);
  put('deprecated', meta.deprecated);
  if (meta.annotations !== undefined && Object.keys(meta.annotations).length > 0)
    out.annotations = sortedKeys(meta.annotations);
  put('kubeVersion', meta.kubeVersion);
  put('dependencies', meta.dependencies?.map(dependencyInGoOrder));
  put('type', meta.type);
  return out;
}

function maintainerInGoOrder(m: ChartMaintainer): Record<string, string> {
  const out: Record<string, string> = {};
  if (m.name !== undefined && m.name !== '') out.name = m.name;
  if (m.email !== undefined && m.email !== '') out.email = m.email;
  if (m.url !== undefined && m.url !== '') out.url = m.url;
  return out;
}

function dependencyInGoOrder(d: ChartDependency): Record<string, unknown> {
  // `name` and `repository` have no omitempty in Helm's struct: they are always written.
  const out: Record<string, unknown> = { name: d.name };
  if (d.version !== undefined && d.version !== '') out.version = d.version;
  out.repository = d.repository;
  if (d.condition !== undefined && d.condition !== '') out.condition = d.condition;
  if (d.tags !== undefined && d.tags.length > 0) out.tags = d.tags;
  if (d.enabled === true) out.enabled = true;
  if (d['import-values'] !== undefined && d['import-values'].length > 0)
    out['import-values'] = sortedKeys(d['import-values']);
  if (d.alias !== undefined && d.alias !== '') out.alias = d.alias;
  return out;
}

/** The OCI config blob of a chart: its metadata as Helm's `json.Marshal(meta)` writes it. */
export function chartConfigBytes(meta: ChartMetadata): Buffer {
  return Buffer.from(goJson(metadataInGoOrder(meta)), 'utf8');
}
