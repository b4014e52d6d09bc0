// The shared world of the authorization-matrix tests: one Berth with auth on, a public and a private
// project (each with `app:v1` pushed by the admin), a user per project role, a system admin, a signed-in
// outsider, a Developer who was removed, and robots (pull only, push+pull, system pull on '*', one of a
// third project, an expired one and a disabled one). Everything is made through the management API as the
// admin, except the expiry (no API sets a past expiry). Also: the matrix types, and an HTTP client that
// sends each cell from its own loopback address, so that the login limiter (per account and per source
// address) never turns the deliberate failed logins of the inactive robots into 429s.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { TestBerth } from '../support/berth.js';
import {
  adminPassword,
  Api,
  basic,
  createProject,
  createUser,
  expectStatus,
  pushImage,
  pushManifest,
  ociManifest,
  startApiBerth,
} from '../api/support.js';

// ---------------------------------------------------------------- the matrix

export type ProjectKind = 'public' | 'private';
export const projectKinds: readonly ProjectKind[] = ['public', 'private'];

export type Expect = 'allow' | 'deny';
export const Y: Expect = 'allow';
export const N: Expect = 'deny';

const people = ['anonymous', 'projectAdmin', 'developer', 'guest', 'maintainer', 'limitedGuest'] as const;
const others = ['sysadmin', 'outsider', 'formerDeveloper'] as const;
const robotIds = [
  'robotPull',
  'robotPush',
  'robotSystem',
  'robotForeign',
  'robotExpired',
  'robotDisabled',
] as const;
export const subjectIds = [...people, ...others, ...robotIds] as const;
export type SubjectId = (typeof subjectIds)[number];

/** One row of a matrix: per project, the expectation of each action (in the table's column order). */
export type Matrix = Record<SubjectId, Record<ProjectKind, readonly Expect[]>>;

export interface Cell<A extends string> {
  subject: SubjectId;
  kind: ProjectKind;
  action: A;
  expect: Expect;
  /** Lower-case and unique per subject: used in tag, robot and user names. */
  slug: string;
  title: string;
}

/** Every cell of a table, subject by subject; throws when a row does not have one entry per action. */
export function cellsOf<A extends string>(actions: readonly A[], matrix: Matrix): Cell<A>[] {
  const cells: Cell<A>[] = [];
  for (const subject of subjectIds) {
    for (const kind of projectKinds) {
      const row = matrix[subject][kind];
      if (row.length !== actions.length)
        throw new Error(`matrix row ${subject}/${kind} has ${row.length} cells`);
      actions.forEach((action, i) => {
        const expect = row[i]!;
        const title = `${subject} x ${action} x ${kind} project: ${expect}`;
        cells.push({ subject, kind, action, expect, slug: subject.toLowerCase(), title });
      });
    }
  }
  return cells;
}

// ---------------------------------------------------------------- HTTP from a chosen source address

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T>(): T;
}

export interface SendOptions {
  method?: string;
  /** Absolute path with query: `/v2/...`, `/api/v2.0/...`, `/service/token?...`. */
  path: string;
  authorization?: string;
  headers?: Record<string, string>;
  /** A Buffer is sent as is; anything else as JSON. */
  body?: unknown;
  /** Local (loopback) address to connect from. */
  source?: string;
}

export function send(base: string, options: SendOptions): Promise<Reply> {
  const url = new URL(options.path, base);
  const headers: Record<string, string> = { connection: 'close', ...options.headers };
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  let body: Buffer | undefined;
  if (options.body !== undefined) {
    body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(JSON.stringify(options.body));
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: options.method ?? 'GET',
        headers,
        agent: false,
        ...(options.source !== undefined && { localAddress: options.source }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A refusal: 401 or 403 (never 429: each cell has its own source address and a clean account record). */
export function assertDenied(reply: Reply, what: string): void {
  assert.ok(
    reply.status === 401 || reply.status === 403,
    `${what}: expected 401/403, got ${reply.status} ${reply.text.slice(0, 300)}`,
  );
}

/** The `access` claim of a registry token (unverified; for assertions). */
export function accessOf(token: string): { type: string; name: string; actions: string[] }[] {
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as {
    access?: { type: string; name: string; actions: string[] }[];
  };
  return claims.access ?? [];
}

export function assertStatus(reply: Reply, status: number, what: string): void {
  assert.equal(reply.status, status, `${what}: ${reply.text.slice(0, 300)}`);
}

// ---------------------------------------------------------------- the world

export interface ProjectInfo {
  kind: ProjectKind;
  name: string;
  /** `<project>/app`, where `v1` was pushed. */
  repository: string;
  v1: string;
  config: { mediaType: string; digest: string; size: number };
  layer: { mediaType: string; digest: string; size: number };
}

/** A subject acting in one cell, with its credentials for the cell's project, from an address of its own. */
export interface Caller {
  /** A request with the caller's Basic credentials (none for anonymous), unless `authorization` is given. */
  send(options: SendOptions): Promise<Reply>;
}

export interface World {
  berth: TestBerth;
  projects: Record<ProjectKind, ProjectInfo>;
  caller(subject: SubjectId, kind: ProjectKind): Caller;
  /** Pushes (as admin) a manifest of its own under `tag` in the project's `app`; returns its digest. */
  seedArtifact(kind: ProjectKind, tag: string): Promise<string>;
  /** A request as the admin (Basic) from 127.0.0.1. */
  adminSend(options: SendOptions): Promise<Reply>;
  /** Status of an admin GET of a manifest (tag or digest) in the project's `app`. */
  manifestStatus(kind: ProjectKind, reference: string): Promise<number>;
  dispose(): Promise<void>;
}

const password = 'Matrix12345';
const userRoles = { projectAdmin: 1, developer: 2, guest: 3, maintainer: 4, limitedGuest: 5 } as const;
const pull = [{ resource: 'repository', action: 'pull' }];
const pushPull = [...pull, { resource: 'repository', action: 'push' }];
const projectRobots = {
  robotPull: pull,
  robotPush: pushPull,
  robotExpired: pushPull,
  robotDisabled: pushPull,
};
type ProjectRobot = keyof typeof projectRobots;

interface CreatedRobot {
  id: number;
  name: string;
  secret: string;
}

export async function setupWorld(): Promise<World> {
  const berth = await startApiBerth();
  try {
    return await populate(berth);
  } catch (error) {
    await berth.dispose();
    throw error;
  }
}

async function populate(berth: TestBerth): Promise<World> {
  const admin = Api.as(berth.base, 'admin', adminPassword);
  const adminAuth = basic('admin', adminPassword);
  const names: Record<ProjectKind, string> = { public: 'mx-public', private: 'mx-private' };

  const projects = {} as Record<ProjectKind, ProjectInfo>;
  for (const kind of projectKinds) {
    const name = names[kind];
    await createProject(admin, name, kind === 'public');
    const repository = `${name}/app`;
    const pushed = await pushImage(berth.base, adminAuth, repository, 'v1');
    const manifest = JSON.parse(pushed.manifest.toString('utf8')) as Pick<ProjectInfo, 'config'> & {
      layers: ProjectInfo['layer'][];
    };
    projects[kind] = {
      kind,
      name,
      repository,
      v1: pushed.digest,
      config: manifest.config,
      layer: manifest.layers[0]!,
    };
  }
  await createProject(admin, 'mx-foreign', false);

  // People: one member per role (in both projects), a system admin, an outsider, a removed Developer.
  const users = [...Object.keys(userRoles), 'sysadmin', 'outsider', 'formerDeveloper'];
  const userIds: Record<string, number> = {};
  for (const id of users) userIds[id] = await createUser(admin, id.toLowerCase(), password);
  expectStatus(
    await admin.put(`/users/${userIds.sysadmin}/sysadmin`, { sysadmin_flag: true }),
    200,
    'sysadmin flag',
  );
  const formerMemberships: string[] = [];
  for (const kind of projectKinds) {
    for (const [id, role] of Object.entries(userRoles)) {
      const added = await admin.post(`/projects/${names[kind]}/members`, {
        role_id: role,
        member_user: { username: id.toLowerCase() },
      });
      expectStatus(added, 201, `member ${id}`);
    }
    const former = await admin.post(`/projects/${names[kind]}/members`, {
      role_id: 2,
      member_user: { username: 'formerdeveloper' },
    });
    expectStatus(former, 201, 'member formerDeveloper');
    formerMemberships.push(new URL(former.headers.get('location')!, berth.base).pathname);
  }

  // Robots: four per project, one of a third project, one system robot.
  const createRobot = async (body: Record<string, unknown>): Promise<CreatedRobot> => {
    const res = expectStatus(
      await admin.post('/robots', { duration: -1, ...body }),
      201,
      `robot ${String(body.name)}`,
    );
    return res.body as CreatedRobot;
  };
  const robots = {} as Record<ProjectKind, Record<ProjectRobot, CreatedRobot>>;
  for (const kind of projectKinds) {
    robots[kind] = {} as Record<ProjectRobot, CreatedRobot>;
    for (const [id, access] of Object.entries(projectRobots) as [ProjectRobot, typeof pull][]) {
      const permissions = [{ kind: 'project', namespace: names[kind], access }];
      robots[kind][id] = await createRobot({ name: id.toLowerCase(), level: 'project', permissions });
    }
  }
  const foreign = await createRobot({
    name: 'foreign',
    level: 'project',
    permissions: [{ kind: 'project', namespace: 'mx-foreign', access: pushPull }],
  });
  const system = await createRobot({
    name: 'mx-system',
    level: 'system',
    permissions: [{ kind: 'project', namespace: '*', access: pull }],
  });

  // Before they lose it, the removed Developer and the robots to be expired or disabled do hold access.
  for (const kind of projectKinds) {
    const { repository } = projects[kind];
    const pulled = await send(berth.base, {
      path: `/v2/${repository}/manifests/v1`,
      authorization: basic('formerdeveloper', password),
    });
    assertStatus(pulled, 200, `formerDeveloper pulls ${repository} while a member`);
    for (const id of ['robotExpired', 'robotDisabled'] as const) {
      const robot = robots[kind][id];
      const token = await send(berth.base, {
        path: `/service/token?service=berth&scope=repository:${repository}:pull,push`,
        authorization: basic(robot.name, robot.secret),
      });
      assertStatus(token, 200, `${robot.name} gets a token while active`);
      const access = accessOf(token.json<{ token: string }>().token);
      assert.deepEqual(access[0]?.actions.sort(), ['pull', 'push'], `${robot.name} may push while active`);
    }
  }
  for (const path of formerMemberships)
    expectStatus(await admin.delete(path), 200, `remove formerDeveloper: ${path}`);
  for (const kind of projectKinds) {
    const expired = robots[kind].robotExpired;
    const updated = await berth.metadata.robots.update(
      expired.id,
      { expiresAt: new Date(Date.now() - 3_600_000) },
      new Date(),
    );
    assert.ok(updated?.expiresAt !== undefined && updated.expiresAt.getTime() < Date.now(), 'robot expired');
    const disabled = robots[kind].robotDisabled;
    const body = { name: 'robotdisabled', level: 'project', disable: true, duration: -1 };
    const permissions = [{ kind: 'project', namespace: names[kind], access: pushPull }];
    expectStatus(await admin.put(`/robots/${disabled.id}`, { ...body, permissions }), 200, 'disable robot');
  }

  const credentialsOf = (subject: SubjectId, kind: ProjectKind): [string, string] | undefined => {
    switch (subject) {
      case 'anonymous':
        return undefined;
      case 'robotPull':
      case 'robotPush':
      case 'robotExpired':
      case 'robotDisabled':
        return [robots[kind][subject].name, robots[kind][subject].secret];
      case 'robotForeign':
        return [foreign.name, foreign.secret];
      case 'robotSystem':
        return [system.name, system.secret];
      default:
        return [subject.toLowerCase(), password];
    }
  };

  let nextSource = 0;
  const caller = (subject: SubjectId, kind: ProjectKind): Caller => {
    nextSource += 1;
    const source = `127.77.${Math.floor(nextSource / 250)}.${(nextSource % 250) + 1}`;
    const credentials = credentialsOf(subject, kind);
    // An inactive robot fails every login; forget its earlier cells' failures so none is locked out.
    if (credentials !== undefined && (subject === 'robotExpired' || subject === 'robotDisabled')) {
      berth.auth.limiter.recordSuccess(credentials[0]);
    }
    const authorization = credentials === undefined ? undefined : basic(...credentials);
    return {
      send: (options) => send(berth.base, { source, ...(authorization && { authorization }), ...options }),
    };
  };

  return {
    berth,
    projects,
    caller,
    seedArtifact: async (kind, tag) => {
      const { repository, config, layer } = projects[kind];
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: ociManifest,
          config,
          layers: [layer],
          annotations: { 'test.cell': tag },
        }),
      );
      return pushManifest(berth.base, adminAuth, repository, tag, manifest, ociManifest);
    },
    adminSend: (options) => send(berth.base, { authorization: adminAuth, ...options }),
    manifestStatus: async (kind, reference) =>
      (
        await send(berth.base, {
          path: `/v2/${projects[kind].repository}/manifests/${reference}`,
          authorization: adminAuth,
        })
      ).status,
    dispose: () => berth.dispose(),
  };
}
