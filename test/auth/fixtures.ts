// Users, projects, members and robots for the auth tests, made straight through the MetadataStore and the
// PasswordHasher (the management API is not what these tests are about), plus token-endpoint helpers.
import assert from 'node:assert/strict';
import type { Project, Robot, RobotPermission, RoleId, User } from '../../src/core/iam/model.js';
import type { Clock } from '../../src/core/ports.js';
import type { BerthOptions } from '../../src/server/berth.js';
import { startTestBerth, type TestBerth } from '../support/berth.js';

export const adminPassword = 'Adm1nPassword';

/** A clock the test can move forward (token expiry, cache lifetimes). */
export class TestClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** A Berth with authentication on and a known admin password. */
export function startAuthBerth(
  auth: Record<string, unknown> = {},
  options: BerthOptions & { dataDir?: string } = {},
): Promise<TestBerth> {
  return startTestBerth({ auth: { enabled: true, adminPassword, ...auth } }, options);
}

export async function addUser(
  berth: TestBerth,
  username: string,
  password: string,
  sysadmin = false,
): Promise<User> {
  const created = await berth.metadata.users.create(
    {
      username,
      email: `${username}@example.test`,
      realname: username,
      comment: '',
      sysadmin,
      passwordHash: await berth.auth.hasher.hash(password),
    },
    new Date(),
  );
  assert.ok(created.ok, `user ${username} exists already`);
  return created.value;
}

export async function addProject(berth: TestBerth, name: string, isPublic = false): Promise<Project> {
  const admin = await berth.metadata.users.getByName('admin');
  assert.ok(admin);
  const created = await berth.metadata.projects.create(
    { name, ownerId: admin.id, public: isPublic, metadata: { public: String(isPublic) }, storageLimit: -1 },
    new Date(),
  );
  assert.ok(created.ok, `project ${name} exists already`);
  return created.value;
}

export async function addMember(berth: TestBerth, project: Project, user: User, role: RoleId): Promise<void> {
  const added = await berth.metadata.members.add(project.id, user.id, role);
  assert.ok(added.ok);
}

/** A project robot `robot$<project>+<name>` with repository actions in its project. */
export async function addRobot(
  berth: TestBerth,
  project: Project,
  name: string,
  secret: string,
  actions: string[],
  extra: { disabled?: boolean; expiresAt?: Date } = {},
): Promise<Robot> {
  const permissions: RobotPermission[] = [
    {
      kind: 'project',
      namespace: project.name,
      access: actions.map((action) => ({ resource: 'repository', action })),
    },
  ];
  const created = await berth.metadata.robots.create(
    {
      name: `robot$${project.name}+${name}`,
      description: '',
      level: 'project',
      projectId: project.id,
      disabled: extra.disabled ?? false,
      duration: -1,
      ...(extra.expiresAt !== undefined && { expiresAt: extra.expiresAt }),
      permissions,
      secretHash: await berth.auth.hasher.hash(secret),
    },
    new Date(),
  );
  assert.ok(created.ok);
  return created.value;
}

export function basic(name: string, secret: string): string {
  return `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;
}

export interface TokenResponse {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
  scope?: string;
}

export interface TokenAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** GET /service/token with repeated `scope` parameters and optional Basic credentials. */
export async function getToken(
  berth: TestBerth,
  scopes: string[],
  credentials?: [string, string],
  extra: Record<string, string> = {},
): Promise<TokenAnswer> {
  const query = new URLSearchParams({ service: 'berth', ...extra });
  for (const scope of scopes) query.append('scope', scope);
  const response = await fetch(`${berth.base}/service/token?${query.toString()}`, {
    headers: credentials === undefined ? {} : { Authorization: basic(...credentials) },
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** POST /service/token with a form. */
export async function postToken(berth: TestBerth, form: Record<string, string>): Promise<TokenAnswer> {
  const response = await fetch(`${berth.base}/service/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** A token that must have been issued. */
export async function tokenFor(
  berth: TestBerth,
  scopes: string[],
  credentials?: [string, string],
): Promise<string> {
  const answer = await getToken(berth, scopes, credentials);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return (answer.body as TokenResponse).token;
}

/** The claims of a JWT (unverified; for assertions). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** A `/v2` request with an Authorization header (or none). */
export function v2(
  berth: TestBerth,
  path: string,
  authorization?: string,
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (authorization !== undefined) headers.set('Authorization', authorization);
  return fetch(`${berth.base}/v2/${path}`, { ...init, headers });
}

/** Starts a blob upload (the simplest push request): 202 when allowed. */
export function startUpload(berth: TestBerth, repository: string, authorization?: string): Promise<Response> {
  return v2(berth, `${repository}/blobs/uploads/`, authorization, { method: 'POST' });
}

export async function errorCode(response: Response): Promise<{ code: string; message: string }> {
  const body = (await response.json()) as { errors: { code: string; message: string }[] };
  return body.errors[0]!;
}
