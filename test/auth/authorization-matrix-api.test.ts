// The authorization matrix on the management API (/api/v2.0), one `it` per cell: who may delete an
// artifact, list a project's repositories, add a tag, add a member, create a project robot and change the
// project's settings, in a public and a private project. Expectations are Harbor's role matrix
// (src/core/iam/permissions.ts): Guests and Limited Guests read, Developer also tags, Maintainer also
// deletes artifacts, only Project Admin and system admins manage members, robots and settings; anyone
// (signed in or not) lists a public project's repositories; a robot holds exactly its grants (a `pull`
// grant is not `repository:list`) plus the public ones; failing credentials are refused everywhere.
// Every refused write is checked to have changed nothing. The /v2 half is authorization-matrix-v2.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertDenied,
  assertStatus,
  cellsOf,
  N,
  projectKinds,
  subjectIds,
  Y,
  type Caller,
  type Cell,
  type Matrix,
  type World,
  setupWorld,
} from './matrix-world.js';

const actions = [
  'delete artifact (api)',
  'list repositories (api)',
  'add tag (api)',
  'add member (api)',
  'create robot (api)',
  'change settings (api)',
] as const;
type Action = (typeof actions)[number];

// prettier-ignore
const matrix: Matrix = {
  //                          delete list tag member robot settings     delete list tag member robot settings
  anonymous:       { public: [N,     Y,   N,  N,     N,    N], private: [N,     N,   N,  N,     N,    N] },
  projectAdmin:    { public: [Y,     Y,   Y,  Y,     Y,    Y], private: [Y,     Y,   Y,  Y,     Y,    Y] },
  developer:       { public: [N,     Y,   Y,  N,     N,    N], private: [N,     Y,   Y,  N,     N,    N] },
  guest:           { public: [N,     Y,   N,  N,     N,    N], private: [N,     Y,   N,  N,     N,    N] },
  maintainer:      { public: [Y,     Y,   Y,  N,     N,    N], private: [Y,     Y,   Y,  N,     N,    N] },
  limitedGuest:    { public: [N,     Y,   N,  N,     N,    N], private: [N,     Y,   N,  N,     N,    N] },
  sysadmin:        { public: [Y,     Y,   Y,  Y,     Y,    Y], private: [Y,     Y,   Y,  Y,     Y,    Y] },
  outsider:        { public: [N,     Y,   N,  N,     N,    N], private: [N,     N,   N,  N,     N,    N] },
  formerDeveloper: { public: [N,     Y,   N,  N,     N,    N], private: [N,     N,   N,  N,     N,    N] },
  robotPull:       { public: [N,     Y,   N,  N,     N,    N], private: [N,     N,   N,  N,     N,    N] },
  robotPush:       { public: [N,     Y,   N,  N,     N,    N], private: [N,     N,   N,  N,     N,    N] },
  robotSystem:     { public: [N,     Y,   N,  N,     N,    N], private: [N,     N,   N,  N,     N,    N] },
  robotForeign:    { public: [N,     Y,   N,  N,     N,    N], private: [N,     N,   N,  N,     N,    N] },
  robotExpired:    { public: [N,     N,   N,  N,     N,    N], private: [N,     N,   N,  N,     N,    N] },
  robotDisabled:   { public: [N,     N,   N,  N,     N,    N], private: [N,     N,   N,  N,     N,    N] },
};

const cells = cellsOf(actions, matrix);

/** Digest of the artifact each delete cell deletes, by `<kind>/<subject>`. */
const seeded = new Map<string, string>();

const api = (path: string) => `/api/v2.0${path}`;

async function adminJson<T>(world: World, path: string): Promise<T> {
  const reply = await world.adminSend({ path: api(path) });
  assertStatus(reply, 200, `admin GET ${path}`);
  return reply.json<T>();
}

async function artifactStatus(world: World, cell: Cell<Action>, reference: string): Promise<number> {
  const { name } = world.projects[cell.kind];
  return (await world.adminSend({ path: api(`/projects/${name}/repositories/app/artifacts/${reference}`) }))
    .status;
}

type Runner = (world: World, cell: Cell<Action>, caller: Caller) => Promise<void>;

const runners: Record<Action, Runner> = {
  /** DELETE an artifact (seeded for this cell) by digest. */
  'delete artifact (api)': async (world, cell, caller) => {
    const { name } = world.projects[cell.kind];
    const digest = seeded.get(`${cell.kind}/${cell.subject}`)!;
    assert.equal(await artifactStatus(world, cell, digest), 200, 'the seeded artifact exists');
    const deleted = await caller.send({
      method: 'DELETE',
      path: api(`/projects/${name}/repositories/app/artifacts/${digest}`),
    });
    if (cell.expect === N) {
      assertDenied(deleted, 'DELETE artifact');
      assert.equal(await artifactStatus(world, cell, digest), 200, 'the artifact is still there');
      return;
    }
    assertStatus(deleted, 200, 'DELETE artifact');
    assert.equal(await artifactStatus(world, cell, digest), 404, 'the artifact is gone');
    assert.equal(await world.manifestStatus(cell.kind, digest), 404, 'and gone from /v2 too');
  },

  'list repositories (api)': async (world, cell, caller) => {
    const { name, repository } = world.projects[cell.kind];
    const list = await caller.send({ path: api(`/projects/${name}/repositories`) });
    if (cell.expect === N) return assertDenied(list, 'GET repositories');
    assertStatus(list, 200, 'GET repositories');
    const names = list.json<{ name: string }[]>().map((r) => r.name);
    assert.deepEqual(names, [repository]);
  },

  /** POST a tag of its own onto `v1`. */
  'add tag (api)': async (world, cell, caller) => {
    const { name, v1 } = world.projects[cell.kind];
    const tag = `tag-${cell.slug}`;
    const created = await caller.send({
      method: 'POST',
      path: api(`/projects/${name}/repositories/app/artifacts/v1/tags`),
      body: { name: tag },
    });
    if (cell.expect === N) {
      assertDenied(created, 'POST tag');
      assert.equal(await artifactStatus(world, cell, tag), 404, `tag ${tag} must not exist`);
      assert.equal(await world.manifestStatus(cell.kind, tag), 404, `nor on /v2`);
      return;
    }
    assertStatus(created, 201, 'POST tag');
    const artifact = await adminJson<{ digest: string }>(
      world,
      `/projects/${name}/repositories/app/artifacts/${tag}`,
    );
    assert.equal(artifact.digest, v1, `${tag} names v1's artifact`);
  },

  /** POST a member: a user of its own, as Guest. */
  'add member (api)': async (world, cell, caller) => {
    const { name } = world.projects[cell.kind];
    const username = memberTarget(cell);
    const added = await caller.send({
      method: 'POST',
      path: api(`/projects/${name}/members`),
      body: { role_id: 3, member_user: { username } },
    });
    const members = await adminJson<{ entity_name: string; role_id: number }[]>(
      world,
      `/projects/${name}/members?entityname=${username}`,
    );
    const found = members.filter((m) => m.entity_name === username);
    if (cell.expect === N) {
      assertDenied(added, 'POST member');
      assert.deepEqual(found, [], `${username} must not be a member`);
      return;
    }
    assertStatus(added, 201, 'POST member');
    assert.equal(found.length, 1, `${username} is a member`);
    assert.equal(found[0]!.role_id, 3);
  },

  /** POST /robots: a project robot of its own with pull. */
  'create robot (api)': async (world, cell, caller) => {
    const { name } = world.projects[cell.kind];
    const robot = `made-by-${cell.slug}`;
    const created = await caller.send({
      method: 'POST',
      path: api('/robots'),
      body: {
        name: robot,
        level: 'project',
        duration: -1,
        permissions: [
          { kind: 'project', namespace: name, access: [{ resource: 'repository', action: 'pull' }] },
        ],
      },
    });
    const robots = await adminJson<{ name: string }[]>(world, `/projects/${name}/robots?q=name%3D~${robot}`);
    const found = robots.filter((r) => r.name === `robot$${name}+${robot}`);
    if (cell.expect === N) {
      assertDenied(created, 'POST robot');
      assert.deepEqual(found, [], `robot ${robot} must not exist`);
      return;
    }
    assertStatus(created, 201, 'POST robot');
    const body = created.json<{ id: number; name: string; secret: string }>();
    assert.equal(body.name, `robot$${name}+${robot}`);
    assert.ok(body.secret.length >= 8, 'the secret is returned');
    assert.equal(found.length, 1, 'the robot is listed');
  },

  /** PUT the project with `auto_scan: true` (the admin sets it back to false before each cell). */
  'change settings (api)': async (world, cell, caller) => {
    const { name, kind } = world.projects[cell.kind];
    const reset = await world.adminSend({
      method: 'PUT',
      path: api(`/projects/${name}`),
      body: { metadata: { auto_scan: 'false' } },
    });
    assertStatus(reset, 200, 'admin resets auto_scan');
    const changed = await caller.send({
      method: 'PUT',
      path: api(`/projects/${name}`),
      body: { metadata: { auto_scan: 'true' } },
    });
    const project = await adminJson<{ metadata: Record<string, string> }>(world, `/projects/${name}`);
    assert.equal(project.metadata.public, String(kind === 'public'), 'visibility is untouched');
    if (cell.expect === N) {
      assertDenied(changed, 'PUT project');
      assert.equal(project.metadata.auto_scan, 'false', 'auto_scan is unchanged');
      return;
    }
    assertStatus(changed, 200, 'PUT project');
    assert.equal(project.metadata.auto_scan, 'true', 'auto_scan is changed');
  },
};

function memberTarget(cell: Cell<Action>): string {
  return `target-${cell.kind}-${cell.slug}`;
}

describe('authorization matrix: /api/v2.0', () => {
  let world: World;

  before(async () => {
    world = await setupWorld();
    // Users to add as members: they never sign in, so they share one password hash, made straight in the store.
    const passwordHash = await world.berth.auth.hasher.hash('Target12345');
    for (const cell of cells.filter((c) => c.action === 'add member (api)')) {
      const username = memberTarget(cell);
      const created = await world.berth.metadata.users.create(
        {
          username,
          email: `${username}@example.com`,
          realname: username,
          comment: '',
          sysadmin: false,
          passwordHash,
        },
        new Date(),
      );
      assert.ok(created.ok, `user ${username}`);
    }
    for (const kind of projectKinds) {
      for (const subject of subjectIds) {
        seeded.set(`${kind}/${subject}`, await world.seedArtifact(kind, `del-${subject.toLowerCase()}`));
      }
    }
  });
  after(() => world?.dispose());

  for (const cell of cells) {
    it(cell.title, () => runners[cell.action](world, cell, world.caller(cell.subject, cell.kind)));
  }
});
