// Immutable tag rules: CRUD over /projects/{p}/immutabletagrules, and enforcement over /v2 and the API
// (moving or deleting an immutable tag is refused naming the rule; other tags are not affected).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBerth } from '../support/berth.js';
import {
  adminPassword,
  Api,
  basic,
  createProject,
  expectHarborError,
  expectStatus,
  ociManifest,
  pushImage,
  startApiBerth,
} from '../api/support.js';

const rule = (tag: string, repo = '**', extra: Record<string, unknown> = {}) => ({
  tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: tag }],
  scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: repo }] },
  ...extra,
});

describe('immutable tags', () => {
  let berth: TestBerth;
  let admin: Api;
  let auth: string;
  let ruleId: number;

  const v2 = (method: string, path: string, body?: Buffer) =>
    fetch(new URL(`/v2/${path}`, berth.base), {
      method,
      headers: { authorization: auth, 'content-type': ociManifest },
      ...(body !== undefined && { body: new Uint8Array(body) }),
    });

  before(async () => {
    berth = await startApiBerth();
    admin = Api.as(berth.base, 'admin', adminPassword);
    auth = basic('admin', adminPassword);
    await createProject(admin, 'imm');
  });
  after(() => berth.dispose());

  it('creates, lists, updates and deletes rules (409 for the same selectors)', async () => {
    const res = expectStatus(
      await admin.post('/projects/imm/immutabletagrules', rule('release-*', 'app')),
      201,
    );
    ruleId = Number(/\/immutabletagrules\/(\d+)$/.exec(res.headers.get('location') ?? '')?.[1]);
    assert.ok(ruleId > 0);
    expectHarborError(
      await admin.post('/projects/imm/immutabletagrules', rule('release-*', 'app')),
      409,
      'CONFLICT',
    );
    expectHarborError(
      await admin.post('/projects/imm/immutabletagrules', {
        ...rule('x'),
        tag_selectors: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: 'x' }],
      }),
      400,
      'BAD_REQUEST',
    );
    const second = expectStatus(await admin.post('/projects/imm/immutabletagrules', rule('tmp')), 201);
    const secondId = Number(/(\d+)$/.exec(second.headers.get('location') ?? '')?.[1]);
    const list = expectStatus(await admin.get('/projects/imm/immutabletagrules'), 200);
    assert.equal(list.headers.get('x-total-count'), '2');
    const rules = list.body as {
      id: number;
      project_id: number;
      disabled: boolean;
      tag_selectors: { pattern: string }[];
    }[];
    assert.deepEqual(
      rules.map((r) => [r.id, r.disabled, r.tag_selectors[0]!.pattern]),
      [
        [ruleId, false, 'release-*'],
        [secondId, false, 'tmp'],
      ],
    );
    expectStatus(await admin.put(`/projects/imm/immutabletagrules/${secondId}`, { disabled: true }), 200);
    const updated = (await admin.get('/projects/imm/immutabletagrules')).body as {
      id: number;
      disabled: boolean;
    }[];
    assert.equal(updated.find((r) => r.id === secondId)?.disabled, true);
    expectStatus(await admin.delete(`/projects/imm/immutabletagrules/${secondId}`), 200);
    expectStatus(await admin.delete(`/projects/imm/immutabletagrules/${secondId}`), 404);
  });

  it('refuses a /v2 push that would move an immutable tag, naming the rule', async () => {
    await pushImage(berth.base, auth, 'imm/app', 'release-1');
    const other = await pushImage(berth.base, auth, 'imm/app', 'scratch');
    const res = await v2('PUT', 'imm/app/manifests/release-1', other.manifest);
    assert.equal(res.status, 403);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'DENIED');
    assert.match(body.errors[0]!.message, new RegExp(`immutable tag rule ${ruleId}\\b`));
  });

  it('allows pushing the same content again, other tags, and other repositories', async () => {
    const same = await admin.get('/projects/imm/repositories/app/artifacts/release-1');
    const digest = (same.body as { digest: string }).digest;
    const bytes = await (await v2('GET', `imm/app/manifests/${digest}`)).arrayBuffer();
    assert.equal((await v2('PUT', 'imm/app/manifests/release-1', Buffer.from(bytes))).status, 201);
    await pushImage(berth.base, auth, 'imm/app', 'scratch'); // moves a mutable tag
    await pushImage(berth.base, auth, 'imm/lib', 'release-1');
    await pushImage(berth.base, auth, 'imm/lib', 'release-1'); // the rule covers imm/app only
  });

  it('refuses deleting the tag or its manifest over /v2 and the API', async () => {
    const digest = (
      (await admin.get('/projects/imm/repositories/app/artifacts/release-1')).body as { digest: string }
    ).digest;
    assert.equal((await v2('DELETE', 'imm/app/manifests/release-1')).status, 403);
    assert.equal((await v2('DELETE', `imm/app/manifests/${digest}`)).status, 403);
    expectHarborError(
      await admin.delete('/projects/imm/repositories/app/artifacts/release-1'),
      403,
      'FORBIDDEN',
    );
    expectHarborError(
      await admin.delete(`/projects/imm/repositories/app/artifacts/${digest}/tags/release-1`),
      403,
      'FORBIDDEN',
    );
    expectStatus(await admin.get('/projects/imm/repositories/app/artifacts/release-1'), 200);
  });

  it('lets a mutable tag be deleted, and the immutable one once its rule is disabled', async () => {
    assert.equal((await v2('DELETE', 'imm/app/manifests/scratch')).status, 202);
    expectStatus(await admin.put(`/projects/imm/immutabletagrules/${ruleId}`, { disabled: true }), 200);
    expectStatus(await admin.delete('/projects/imm/repositories/app/artifacts/release-1'), 200);
  });
});
