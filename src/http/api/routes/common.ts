import { z } from 'zod';
import type { ArtifactService } from '../../../core/content/artifacts.js';
import type { RepositoryService } from '../../../core/content/repositories.js';
import type { SearchService } from '../../../core/content/search.js';
import { projectRef, type ProjectRef } from '../../../core/iam/guard.js';
import type { MemberService } from '../../../core/iam/members.js';
import type { ImmutableRuleService } from '../../../core/lifecycle/immutable/service.js';
import type { RetentionService } from '../../../core/lifecycle/retention/service.js';
import type { ProjectMetadataService } from '../../../core/iam/project-metadata.js';
import type { ProjectService } from '../../../core/iam/projects.js';
import type { RobotService } from '../../../core/iam/robots.js';
import type { UserService } from '../../../core/iam/users.js';
import type { Clock } from '../../../core/ports.js';
import type { ApiAuthenticator } from '../auth.js';
import { ApiError } from '../errors.js';
import type { ApiResponse } from '../router.js';
import type { SessionCodec } from '../session.js';

/** Everything the route modules call: the use cases, and the few edge services. */
export interface ApiServices {
  clock: Clock;
  users: UserService;
  projects: ProjectService;
  projectMetadata: ProjectMetadataService;
  members: MemberService;
  robots: RobotService;
  repositories: RepositoryService;
  artifacts: ArtifactService;
  search: SearchService;
  retention: RetentionService;
  immutableRules: ImmutableRuleService;
  auth: ApiAuthenticator;
  sessions: () => Promise<SessionCodec>;
  system: SystemFacts;
}

/** What `/systeminfo` and `/health` report. */
export interface SystemFacts {
  version: string;
  storageDriver: string;
  externalUrl?: string;
  /** Checks each component; resolves with an error message for a failing one. */
  checks: Record<string, () => Promise<void>>;
}

export const ok: ApiResponse = { status: 200 };

export function created(location: string, body?: unknown): ApiResponse {
  return { status: 201, headers: { Location: location }, ...(body !== undefined && { body }) };
}

/** Harbor's boolean query and header values. */
export const boolString = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const idParam = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const projectHeaders = z.object({
  'x-is-resource-name': boolString.optional().describe('The project_name_or_id parameter is a name'),
});

export const projectParam = z.string().min(1).max(255).describe('The name or id of the project');

export function refOf(value: string, headers: { 'x-is-resource-name'?: boolean | undefined }): ProjectRef {
  return projectRef(value, headers['x-is-resource-name'] === true);
}

/**
 * A repository name below its project. Harbor clients encode the slashes of nested names twice
 * (`a%252Fb`); the router decoded once, this decodes the rest (a single-encoded name works too).
 */
export const repositoryParam = z
  .string()
  .min(1)
  .max(255)
  .transform((value, ctx) => {
    try {
      return decodeURIComponent(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'malformed percent-encoding' });
      return z.NEVER;
    }
  })
  .describe('The repository name without the project; encode a slash twice: a/b -> a%252Fb');

export const sortQuery = z
  .string()
  .max(200)
  .optional()
  .describe('Accepted for compatibility; results are sorted by name');

/** One condition of Harbor's `q` language: `k=v` (exact) or `k=~v` (substring). */
export interface QueryTerm {
  op: 'exact' | 'fuzzy';
  value: string;
}

/**
 * Parses Harbor's `q` (`k1=v1,k2=~v2`). Ranges and lists are not supported and answer 400; keys an
 * endpoint does not know are ignored, as Harbor's ORM ignores unknown fields.
 */
export function parseHarborQuery(q: string | undefined): Map<string, QueryTerm> {
  const terms = new Map<string, QueryTerm>();
  if (q === undefined || q.trim() === '') return terms;
  for (const part of q.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new ApiError('BAD_REQUEST', `invalid query term ${JSON.stringify(part.slice(0, 100))}`);
    const key = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    const op: QueryTerm['op'] = value.startsWith('~') ? 'fuzzy' : 'exact';
    if (op === 'fuzzy') value = value.slice(1);
    if (/^[[({]/.test(value)) throw new ApiError('BAD_REQUEST', 'range and list queries are not supported');
    terms.set(key, { op, value: value.replace(/^["']|["']$/g, '') });
  }
  return terms;
}

/** Reads a term from `q` by any of its spellings (Harbor mixes `project_id` and `ProjectID`). */
export function termOf(terms: Map<string, QueryTerm>, ...keys: string[]): QueryTerm | undefined {
  for (const key of keys) {
    const term = terms.get(key);
    if (term !== undefined) return term;
  }
  return undefined;
}
