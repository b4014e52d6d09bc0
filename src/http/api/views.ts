import type { ArtifactView } from '../../core/content/artifact-view.js';
import type { SearchResult } from '../../core/content/search.js';
import { roleNames, type Member, type Project, type Robot, type User } from '../../core/iam/model.js';
import { visibleMetadata } from '../../core/iam/project-metadata.js';
import type { ProjectDetails, ProjectSummary } from '../../core/iam/projects.js';
import type { ManifestRecord, RepositorySummary } from '../../core/ports.js';
import type {
  ArtifactJson,
  MemberJson,
  ProjectJson,
  ProjectSummaryJson,
  RepositoryJson,
  RobotCreatedJson,
  RobotJson,
  SearchJson,
  TagJson,
  UserJson,
} from './schemas.js';

/** Harbor's zero time, which it shows for "never" (an artifact never pulled). */
const never = '0001-01-01T00:00:00.000Z';

export function projectJson(details: ProjectDetails): ProjectJson {
  const { project } = details;
  return {
    project_id: project.id,
    owner_id: project.ownerId,
    ...(details.ownerName !== undefined && { owner_name: details.ownerName }),
    name: project.name,
    registry_id: 0,
    creation_time: project.createdAt.toISOString(),
    update_time: project.updatedAt.toISOString(),
    deleted: false,
    togglable: details.togglable,
    current_user_role_id: details.roleId ?? 0,
    current_user_role_ids: details.roleId === undefined ? [] : [details.roleId],
    repo_count: details.repoCount,
    chart_count: 0,
    metadata: visibleMetadata(project),
  };
}

export function projectSummaryJson(summary: ProjectSummary): ProjectSummaryJson {
  return {
    repo_count: summary.repoCount,
    chart_count: 0,
    ...(summary.members !== undefined && {
      project_admin_count: summary.members[1],
      developer_count: summary.members[2],
      guest_count: summary.members[3],
      maintainer_count: summary.members[4],
      limited_guest_count: summary.members[5],
    }),
    ...(summary.quota !== undefined && {
      quota: { hard: { storage: summary.quota.hard }, used: { storage: summary.quota.used } },
    }),
  };
}

export function memberJson(member: Member): MemberJson {
  return {
    id: member.id,
    project_id: member.projectId,
    entity_name: member.username,
    entity_id: member.userId,
    entity_type: 'u',
    role_id: member.roleId,
    role_name: roleNames[member.roleId],
  };
}

export function userJson(user: User): UserJson {
  return {
    user_id: user.id,
    username: user.username,
    email: user.email,
    realname: user.realname,
    comment: user.comment,
    sysadmin_flag: user.sysadmin,
    admin_role_in_auth: false,
    creation_time: user.createdAt.toISOString(),
    update_time: user.updatedAt.toISOString(),
  };
}

function expiresAt(robot: Robot): number {
  return robot.expiresAt === undefined ? -1 : Math.floor(robot.expiresAt.getTime() / 1000);
}

export function robotJson(robot: Robot): RobotJson {
  return {
    id: robot.id,
    name: robot.name,
    description: robot.description,
    level: robot.level,
    duration: robot.duration,
    editable: true,
    disable: robot.disabled,
    expires_at: expiresAt(robot),
    permissions: robot.permissions.map((p) => ({ kind: p.kind, namespace: p.namespace, access: p.access })),
    creation_time: robot.createdAt.toISOString(),
    update_time: robot.updatedAt.toISOString(),
  };
}

export function robotCreatedJson(robot: Robot, secret: string): RobotCreatedJson {
  return {
    id: robot.id,
    name: robot.name,
    secret,
    creation_time: robot.createdAt.toISOString(),
    expires_at: expiresAt(robot),
  };
}

export function repositoryJson(project: Project, repository: RepositorySummary): RepositoryJson {
  return {
    project_id: project.id,
    name: repository.name,
    description: '',
    artifact_count: repository.artifactCount,
    pull_count: repository.pullCount,
    creation_time: repository.createdAt.toISOString(),
    update_time: repository.updatedAt.toISOString(),
  };
}

/** Tag push times are not kept apart from the artifact's, so a tag shows its artifact's push time. */
export function tagJson(name: string, artifact: ManifestRecord): TagJson {
  return {
    name,
    push_time: artifact.createdAt.toISOString(),
    pull_time: artifact.pulledAt?.toISOString() ?? never,
    immutable: false,
    signed: false,
  };
}

export function artifactJson(project: Project, view: ArtifactView, withTags: boolean): ArtifactJson {
  const { record } = view;
  return {
    project_id: project.id,
    repository_name: record.repository,
    digest: record.digest,
    type: view.type,
    media_type: view.mediaType,
    manifest_media_type: view.manifestMediaType,
    artifact_type: view.artifactType,
    size: view.size,
    icon: '',
    push_time: record.createdAt.toISOString(),
    pull_time: record.pulledAt?.toISOString() ?? never,
    extra_attrs: view.extraAttrs,
    annotations: view.annotations,
    references: view.references.map((r) => ({
      child_digest: r.childDigest,
      ...(r.platform !== undefined && { platform: r.platform }),
      ...(r.annotations !== undefined && { annotations: r.annotations }),
      ...(r.urls !== undefined && { urls: r.urls }),
    })),
    tags: withTags ? view.tags.map((tag) => tagJson(tag, record)) : null,
    labels: null,
  };
}

export function searchJson(result: SearchResult): SearchJson {
  return {
    project: result.projects.map(projectJson),
    repository: result.repositories.map(({ project, repository }) => ({
      project_id: project.id,
      project_name: project.name,
      project_public: project.public,
      repository_name: repository.name,
      pull_count: repository.pullCount,
      artifact_count: repository.artifactCount,
    })),
  };
}
