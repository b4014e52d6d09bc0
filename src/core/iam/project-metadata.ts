import { RegistryError } from '../errors.js';
import type { Clock, MetadataStore } from '../ports.js';
import { ProjectGuard, type ProjectRef } from './guard.js';
import type { Project, ProjectMetadata } from './model.js';
import type { Subject } from './policy.js';
import { badRequest, notFound, parseHarborBool } from './rules.js';
import type { ChangeHook } from './users.js';

/** Metadata keys Harbor accepts on a (non proxy-cache) project; booleans are stored as "true"/"false". */
export const booleanMetadataKeys: readonly string[] = [
  'public',
  'enable_content_trust',
  'enable_content_trust_cosign',
  'prevent_vul',
  'auto_scan',
  'auto_sbom_generation',
  'reuse_sys_cve_allowlist',
];
const severities = ['none', 'low', 'medium', 'high', 'critical'];
export const metadataKeys: readonly string[] = [...booleanMetadataKeys, 'severity'];

/** Validates one key and returns the value as stored (booleans normalised as Harbor does). */
export function normaliseMetadataValue(key: string, value: string): string {
  if (booleanMetadataKeys.includes(key)) {
    const parsed = parseHarborBool(value);
    if (parsed === undefined)
      throw badRequest(`invalid value ${JSON.stringify(value.slice(0, 50))} for ${key}`);
    return String(parsed);
  }
  if (key === 'severity') {
    const lower = value.toLowerCase();
    if (!severities.includes(lower))
      throw badRequest(`invalid value ${JSON.stringify(value.slice(0, 50))} for severity`);
    return lower;
  }
  throw badRequest(`invalid key: ${key.slice(0, 100)}`);
}

export function normaliseMetadata(entries: Record<string, string>): ProjectMetadata {
  const result: ProjectMetadata = {};
  for (const [key, value] of Object.entries(entries)) result[key] = normaliseMetadataValue(key, value);
  return result;
}

/**
 * The metadata clients see: the stored keys without removed ones, and `public` from the column that
 * every pull reads. The store merges metadata and cannot drop a key, so a removed key is kept as "".
 */
export function visibleMetadata(project: Project): ProjectMetadata {
  const result: ProjectMetadata = {};
  for (const [key, value] of Object.entries(project.metadata)) if (value !== '') result[key] = value;
  result.public = String(project.public);
  return result;
}

/** `/projects/{p}/metadatas`: read and edit one project's settings, one key at a time (Harbor's rules). */
export class ProjectMetadataService {
  private readonly guard: ProjectGuard;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
    private readonly changed: ChangeHook = () => undefined,
  ) {
    this.guard = new ProjectGuard(metadata, clock);
  }

  async list(subject: Subject, ref: ProjectRef): Promise<ProjectMetadata> {
    const { project } = await this.guard.require(subject, ref, 'metadata:read');
    return visibleMetadata(project);
  }

  async get(subject: Subject, ref: ProjectRef, key: string): Promise<ProjectMetadata> {
    const { project } = await this.guard.require(subject, ref, 'metadata:read');
    const value = visibleMetadata(project)[key];
    if (value === undefined) throw notFound(`metadata ${key.slice(0, 100)} not found`);
    return { [key]: value };
  }

  /** POST: adds keys that are not set yet (409 for one that is). */
  async add(subject: Subject, ref: ProjectRef, entries: Record<string, string>): Promise<void> {
    const { project } = await this.guard.require(subject, ref, 'metadata:create');
    const values = this.single(entries);
    const current = visibleMetadata(project);
    for (const key of Object.keys(values)) {
      if (key !== 'public' && current[key] !== undefined) {
        throw new RegistryError('CONFLICT', `metadata ${key} already exists`);
      }
    }
    await this.write(project, values);
  }

  /** PUT `/metadatas/{name}`: the body must hold exactly that key. */
  async put(subject: Subject, ref: ProjectRef, key: string, entries: Record<string, string>): Promise<void> {
    const { project } = await this.guard.require(subject, ref, 'metadata:update');
    const values = this.single(entries);
    if (values[key] === undefined)
      throw badRequest(`the body must hold exactly the key ${key.slice(0, 100)}`);
    if (visibleMetadata(project)[key] === undefined)
      throw notFound(`metadata ${key.slice(0, 100)} not found`);
    await this.write(project, values);
  }

  async delete(subject: Subject, ref: ProjectRef, key: string): Promise<void> {
    const { project } = await this.guard.require(subject, ref, 'metadata:delete');
    if (key === 'public') throw badRequest('the public setting cannot be removed; set it to "false"');
    if (visibleMetadata(project)[key] === undefined)
      throw notFound(`metadata ${key.slice(0, 100)} not found`);
    await this.metadata.projects.update(project.id, { metadata: { [key]: '' } }, this.clock.now());
  }

  private single(entries: Record<string, string>): ProjectMetadata {
    if (Object.keys(entries).length !== 1) throw badRequest('only one key/value pair is allowed');
    return normaliseMetadata(entries);
  }

  private async write(project: Project, values: ProjectMetadata): Promise<void> {
    const patch: { metadata: ProjectMetadata; public?: boolean } = { metadata: values };
    if (values.public !== undefined) patch.public = values.public === 'true';
    await this.metadata.projects.update(project.id, patch, this.clock.now());
    if (patch.public !== undefined) this.changed();
  }
}
