// The authorization matrix on the registry edge (/v2 and /service/token), one `it` per cell: who may pull
// (through Docker's token flow and with Basic straight on /v2), push, delete a manifest and list tags, in a
// public and a private project. Expectations are Harbor's role matrix (src/core/iam/permissions.ts): the
// Guests pull, Developer also pushes, Maintainer also deletes, Project Admin and system admins do all;
// anyone (signed in or not) pulls from a public project; a robot holds exactly its grants (plus the public
// ones); credentials that fail (expired or disabled robot) are refused even where anonymous would pass.
// The world is in matrix-world.ts; the management-API half of the matrix in authorization-matrix-api.test.ts.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ociManifest } from '../api/support.js';
import {
  accessOf,
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
  'pull (token flow)',
  'pull (basic)',
  'push',
  'delete manifest (v2)',
  'list tags (v2)',
] as const;
type Action = (typeof actions)[number];

// prettier-ignore
const matrix: Matrix = {
  //                            pull-token pull-basic push delete tags      pull-token pull-basic push delete tags
  anonymous:       { public:  [Y,         Y,         N,   N,     Y], private: [N,         N,         N,   N,     N] },
  projectAdmin:    { public:  [Y,         Y,         Y,   Y,     Y], private: [Y,         Y,         Y,   Y,     Y] },
  developer:       { public:  [Y,         Y,         Y,   N,     Y], private: [Y,         Y,         Y,   N,     Y] },
  guest:           { public:  [Y,         Y,         N,   N,     Y], private: [Y,         Y,         N,   N,     Y] },
  maintainer:      { public:  [Y,         Y,         Y,   Y,     Y], private: [Y,         Y,         Y,   Y,     Y] },
  limitedGuest:    { public:  [Y,         Y,         N,   N,     Y], private: [Y,         Y,         N,   N,     Y] },
  sysadmin:        { public:  [Y,         Y,         Y,   Y,     Y], private: [Y,         Y,         Y,   Y,     Y] },
  outsider:        { public:  [Y,         Y,         N,   N,     Y], private: [N,         N,         N,   N,     N] },
  formerDeveloper: { public:  [Y,         Y,         N,   N,     Y], private: [N,         N,         N,   N,     N] },
  robotPull:       { public:  [Y,         Y,         N,   N,     Y], private: [Y,         Y,         N,   N,     Y] },
  robotPush:       { public:  [Y,         Y,         Y,   N,     Y], private: [Y,         Y,         Y,   N,     Y] },
  robotSystem:     { public:  [Y,         Y,         N,   N,     Y], private: [Y,         Y,         N,   N,     Y] },
  robotForeign:    { public:  [Y,         Y,         N,   N,     Y], private: [N,         N,         N,   N,     N] },
  robotExpired:    { public:  [N,         N,         N,   N,     N], private: [N,         N,         N,   N,     N] },
  robotDisabled:   { public:  [N,         N,         N,   N,     N], private: [N,         N,         N,   N,     N] },
};

const cells = cellsOf(actions, matrix);

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

type Runner = (world: World, cell: Cell<Action>, caller: Caller) => Promise<void>;

const runners: Record<Action, Runner> = {
  /** GET /service/token (Basic, or nothing for anonymous), then the manifest with the Bearer token. */
  'pull (token flow)': async (world, cell, caller) => {
    const { repository, v1 } = world.projects[cell.kind];
    const token = await caller.send({
      path: `/service/token?service=berth&scope=repository:${repository}:pull`,
    });
    if (token.status !== 200) {
      assert.equal(
        cell.expect,
        N,
        `token endpoint refused an allowed subject: ${token.status} ${token.text}`,
      );
      assertStatus(token, 401, 'token endpoint');
      return;
    }
    const bearer = token.json<{ token: string }>().token;
    const granted = accessOf(bearer).some((a) => a.name === repository && a.actions.includes('pull'));
    assert.equal(granted, cell.expect === Y, `token grants pull on ${repository}`);
    const manifest = await caller.send({
      path: `/v2/${repository}/manifests/v1`,
      authorization: `Bearer ${bearer}`,
    });
    if (cell.expect === N) return assertDenied(manifest, 'GET manifest with the token');
    assertStatus(manifest, 200, 'GET manifest with the token');
    assert.equal(manifest.headers['docker-content-digest'], v1);
  },

  /** GET the manifest with Basic credentials straight on /v2 (anonymous: no Authorization at all). */
  'pull (basic)': async (world, cell, caller) => {
    const { repository, v1 } = world.projects[cell.kind];
    const manifest = await caller.send({ path: `/v2/${repository}/manifests/v1` });
    if (cell.expect === N) return assertDenied(manifest, 'GET manifest');
    assertStatus(manifest, 200, 'GET manifest');
    assert.equal(manifest.headers['docker-content-digest'], v1);
    assert.equal(sha256(Buffer.from(manifest.text)), v1);
  },

  /** Upload a blob of its own (POST, then PUT), then PUT a manifest using it under a tag of its own. */
  push: async (world, cell, caller) => {
    const { repository, config, layer } = world.projects[cell.kind];
    const tag = `push-${cell.slug}`;
    const blob = randomBytes(96);
    const blobDigest = sha256(blob);
    const layers = [layer];
    const start = await caller.send({ method: 'POST', path: `/v2/${repository}/blobs/uploads/` });
    if (cell.expect === Y) {
      assertStatus(start, 202, 'POST upload');
      const location = new URL(start.headers.location!, world.berth.base);
      location.searchParams.set('digest', blobDigest);
      const put = await caller.send({
        method: 'PUT',
        path: `${location.pathname}${location.search}`,
        body: blob,
        headers: { 'content-type': 'application/octet-stream' },
      });
      assertStatus(put, 201, 'PUT upload');
      layers.push({ mediaType: layer.mediaType, digest: blobDigest, size: blob.length });
    } else {
      assertDenied(start, 'POST upload');
    }
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: ociManifest, config, layers }),
    );
    const put = await caller.send({
      method: 'PUT',
      path: `/v2/${repository}/manifests/${tag}`,
      body: manifest,
      headers: { 'content-type': ociManifest },
    });
    const blobAfter = await world.adminSend({
      method: 'HEAD',
      path: `/v2/${repository}/blobs/${blobDigest}`,
    });
    if (cell.expect === N) {
      assertDenied(put, 'PUT manifest');
      assert.equal(await world.manifestStatus(cell.kind, tag), 404, `tag ${tag} must not exist`);
      assert.equal(blobAfter.status, 404, 'the refused blob must not exist');
      return;
    }
    assertStatus(put, 201, 'PUT manifest');
    assert.equal(put.headers['docker-content-digest'], sha256(manifest));
    assert.equal(await world.manifestStatus(cell.kind, tag), 200, `tag ${tag} exists`);
    assert.equal(blobAfter.status, 200, 'the pushed blob exists');
  },

  /** DELETE a manifest (seeded for this cell) by digest. */
  'delete manifest (v2)': async (world, cell, caller) => {
    const { repository } = world.projects[cell.kind];
    const digest = seeded.get(`${cell.kind}/${cell.subject}`)!;
    assert.equal(await world.manifestStatus(cell.kind, digest), 200, 'the seeded manifest exists');
    const deleted = await caller.send({ method: 'DELETE', path: `/v2/${repository}/manifests/${digest}` });
    if (cell.expect === N) {
      assertDenied(deleted, 'DELETE manifest');
      assert.equal(await world.manifestStatus(cell.kind, digest), 200, 'the manifest is still there');
      return;
    }
    assertStatus(deleted, 202, 'DELETE manifest');
    assert.equal(await world.manifestStatus(cell.kind, digest), 404, 'the manifest is gone');
  },

  'list tags (v2)': async (world, cell, caller) => {
    const { repository } = world.projects[cell.kind];
    const list = await caller.send({ path: `/v2/${repository}/tags/list` });
    if (cell.expect === N) return assertDenied(list, 'GET tags/list');
    assertStatus(list, 200, 'GET tags/list');
    const body = list.json<{ name: string; tags: string[] }>();
    assert.equal(body.name, repository);
    assert.ok(body.tags.includes('v1'), `v1 listed in ${list.text}`);
  },
};

/** Digest of the manifest each delete cell deletes, by `<kind>/<subject>`. */
const seeded = new Map<string, string>();

describe('authorization matrix: /v2 and /service/token', () => {
  let world: World;

  before(async () => {
    world = await setupWorld();
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
