import { z } from 'zod';

/**
 * The JSON shapes the API answers with, in Harbor's field names. They document the responses in the
 * OpenAPI document, and the presenters in views.ts are typed by them.
 */

const time = z.string().describe('RFC 3339 date-time');
const stringMap = z.record(z.string(), z.string());

export const errorsSchema = z.object({
  errors: z.array(z.object({ code: z.string(), message: z.string() })),
});

export const projectSchema = z.object({
  project_id: z.number().int(),
  owner_id: z.number().int(),
  owner_name: z.string().optional(),
  name: z.string(),
  registry_id: z.number().int(),
  creation_time: time,
  update_time: time,
  deleted: z.boolean(),
  togglable: z.boolean(),
  current_user_role_id: z.number().int(),
  current_user_role_ids: z.array(z.number().int()),
  repo_count: z.number().int(),
  chart_count: z.number().int(),
  metadata: stringMap,
});

const resourceList = z.object({ storage: z.number().int() });

export const projectSummarySchema = z.object({
  repo_count: z.number().int(),
  chart_count: z.number().int(),
  project_admin_count: z.number().int().optional(),
  maintainer_count: z.number().int().optional(),
  developer_count: z.number().int().optional(),
  guest_count: z.number().int().optional(),
  limited_guest_count: z.number().int().optional(),
  quota: z.object({ hard: resourceList, used: resourceList }).optional(),
});

export const memberSchema = z.object({
  id: z.number().int(),
  project_id: z.number().int(),
  entity_name: z.string(),
  entity_id: z.number().int(),
  entity_type: z.literal('u'),
  role_id: z.number().int(),
  role_name: z.string(),
});

export const userSchema = z.object({
  user_id: z.number().int(),
  username: z.string(),
  email: z.string(),
  realname: z.string(),
  comment: z.string(),
  sysadmin_flag: z.boolean(),
  admin_role_in_auth: z.boolean(),
  creation_time: time,
  update_time: time,
});

export const accessSchema = z.object({
  resource: z.string().min(1).max(100),
  action: z.string().min(1).max(100),
  effect: z.string().max(10).optional(),
});

export const robotPermissionSchema = z.object({
  kind: z.string().max(20),
  namespace: z.string().min(1).max(255),
  access: z.array(accessSchema).max(200),
});

export const robotSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string(),
  level: z.string(),
  duration: z.number().int(),
  editable: z.boolean(),
  disable: z.boolean(),
  expires_at: z.number().int().describe('Unix seconds; -1 never expires'),
  permissions: z.array(robotPermissionSchema),
  creation_time: time,
  update_time: time,
});

export const robotCreatedSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  secret: z.string(),
  creation_time: time,
  expires_at: z.number().int(),
});

export const robotSecretSchema = z.object({ secret: z.string() });

export const repositorySchema = z.object({
  project_id: z.number().int(),
  name: z.string(),
  description: z.string(),
  artifact_count: z.number().int(),
  pull_count: z.number().int(),
  creation_time: time,
  update_time: time,
});

export const tagSchema = z.object({
  name: z.string(),
  push_time: time,
  pull_time: time,
  immutable: z.boolean(),
  signed: z.boolean(),
});

export const platformSchema = z.object({
  architecture: z.string().optional(),
  os: z.string().optional(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
});

export const referenceSchema = z.object({
  child_digest: z.string(),
  platform: platformSchema.optional(),
  annotations: stringMap.optional(),
  urls: z.array(z.string()).optional(),
});

export const artifactSchema = z.object({
  project_id: z.number().int(),
  repository_name: z.string(),
  digest: z.string(),
  type: z.enum(['IMAGE', 'CHART', 'CNAB', 'UNKNOWN']),
  media_type: z.string(),
  manifest_media_type: z.string(),
  artifact_type: z.string(),
  size: z.number().int(),
  icon: z.string(),
  push_time: time,
  pull_time: time,
  extra_attrs: z.record(z.string(), z.unknown()),
  annotations: stringMap,
  references: z.array(referenceSchema),
  tags: z.array(tagSchema).nullable(),
  labels: z.null(),
});

export const searchSchema = z.object({
  project: z.array(projectSchema),
  repository: z.array(
    z.object({
      project_id: z.number().int(),
      project_name: z.string(),
      project_public: z.boolean(),
      repository_name: z.string(),
      pull_count: z.number().int(),
      artifact_count: z.number().int(),
    }),
  ),
});

export const generalInfoSchema = z.object({
  auth_mode: z.string(),
  harbor_version: z.string(),
  berth_version: z.string(),
  project_creation_restriction: z.string(),
  self_registration: z.boolean(),
  has_ca_root: z.boolean(),
  read_only: z.boolean(),
  with_chartmuseum: z.boolean(),
  with_notary: z.boolean(),
  notification_enable: z.boolean(),
  registry_url: z.string(),
  external_url: z.string(),
  registry_storage_provider_name: z.string(),
});

export const healthSchema = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  components: z.array(z.object({ name: z.string(), status: z.string(), error: z.string().optional() })),
});

export type ProjectJson = z.infer<typeof projectSchema>;
export type ProjectSummaryJson = z.infer<typeof projectSummarySchema>;
export type MemberJson = z.infer<typeof memberSchema>;
export type UserJson = z.infer<typeof userSchema>;
export type RobotJson = z.infer<typeof robotSchema>;
export type RobotCreatedJson = z.infer<typeof robotCreatedSchema>;
export type RepositoryJson = z.infer<typeof repositorySchema>;
export type ArtifactJson = z.infer<typeof artifactSchema>;
export type TagJson = z.infer<typeof tagSchema>;
export type SearchJson = z.infer<typeof searchSchema>;
