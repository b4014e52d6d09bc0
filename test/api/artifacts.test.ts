// Repositories, artifacts and tags as Harbor's API shows them, over content pushed through /v2.
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
  pushChart,
  pushImage,
  pushIndex,
  startApiBerth,
  type Pushed,
} from './support.js';

interface ArtifactJson {
  digest: string;
  type: string;
  media_type: string;
  manifest_media_type: string;
  artifact_type: string;
  size: number;
  push_time: string;
  pull_time: string;
  project_id: number;
  tags: { name: string; push_time: string }[] | null;
  references: { child_digest: string; platform?: { architecture: string; os: string } }[];
  extra_attrs: Record<string, unknown>;
}

describe('repositories, artifacts and tags', () => {
  let berth: TestBerth;
  let admin: Api;
  let auth: string;
  let projectId: number;
  let image: Pushed;
  let multi: { index: Pushed; children: Pushed[] };
  let chartDigest: string;

  before(async () => {
    berth = await startApiBerth();
    admin = Api.as(berth.base, 'admin', adminPassword);
    auth = basic('admin', adminPassword);
    projectId = await createProject(admin, 'apps');
    image = await pushImage(berth.base, auth, 'apps/web', 'v1');
    multi = await pushIndex(berth.base, auth, 'apps/team/multi', 'latest');
    chartDigest = await pushChart(berth.base, auth, 'apps/charts/demo', '0.1.0');
  });
  after(() => berth.dispose());

  it('lists the repositories of a project with counts', async () => {
    const res = expectStatus(await admin.get('/projects/apps/repositories'), 200);
    const repos = res.body as { name: string; project_id: number; artifact_count: number }[];
    assert.deepEqual(
      repos.map((r) => r.name),
      ['apps/charts/demo', 'apps/team/multi', 'apps/web'],
    );
    assert.ok(repos.every((r) => r.project_id === projectId));
    assert.equal(res.headers.get('x-total-count'), '3');
  });

  it('reads a nested repository by its double-encoded name, and single-encoded too', async () => {
    const double = expectStatus(await admin.get('/projects/apps/repositories/team%252Fmulti'), 200);
    assert.equal((double.body as { name: string }).name, 'apps/team/multi');
    const single = expectStatus(await admin.get('/projects/apps/repositories/team%2Fmulti'), 200);
    assert.equal((single.body as { name: string }).name, 'apps/team/multi');
    expectHarborError(await admin.get('/projects/apps/repositories/nothing'), 404, 'NOT_FOUND');
  });

  it('describes an image: type, media types, size, tags and config attributes', async () => {
    const res = expectStatus(await admin.get('/projects/apps/repositories/web/artifacts/v1'), 200);
    const artifact = res.body as ArtifactJson;
    assert.equal(artifact.digest, image.digest);
    assert.equal(artifact.type, 'IMAGE');
    assert.equal(artifact.media_type, 'application/vnd.oci.image.config.v1+json');
    assert.equal(artifact.manifest_media_type, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(artifact.size, image.size);
    assert.equal(artifact.project_id, projectId);
    assert.deepEqual(
      artifact.tags?.map((t) => t.name),
      ['v1'],
    );
    assert.equal(artifact.extra_attrs.architecture, 'amd64');
    assert.equal(artifact.extra_attrs.os, 'linux');
    assert.equal(artifact.extra_attrs.author, 'berth tests');
    assert.equal(artifact.extra_attrs.created, '2024-05-01T10:00:00Z');
    assert.equal(artifact.pull_time, '0001-01-01T00:00:00.000Z');
    const byDigest = expectStatus(
      await admin.get(`/projects/apps/repositories/web/artifacts/${image.digest}`),
      200,
    );
    assert.equal((byDigest.body as ArtifactJson).digest, image.digest);
  });

  it('shows an index with its platform references and hides its untagged children', async () => {
    const res = expectStatus(await admin.get('/projects/apps/repositories/team%252Fmulti/artifacts'), 200);
    const artifacts = res.body as ArtifactJson[];
    assert.equal(artifacts.length, 1, 'only the index is listed');
    assert.equal(res.headers.get('x-total-count'), '1');
    const index = artifacts[0]!;
    assert.equal(index.digest, multi.index.digest);
    assert.equal(index.type, 'IMAGE');
    assert.equal(index.media_type, 'application/vnd.oci.image.index.v1+json');
    assert.equal(index.size, multi.index.size);
    assert.deepEqual(
      index.references.map((r) => [r.child_digest, r.platform?.architecture]),
      multi.children.map((c, i) => [c.digest, i === 0 ? 'amd64' : 'arm64']),
    );
    const child = expectStatus(
      await admin.get(`/projects/apps/repositories/team%252Fmulti/artifacts/${multi.children[0]!.digest}`),
      200,
    );
    assert.equal((child.body as ArtifactJson).extra_attrs.architecture, 'amd64');
  });

  it('recognises a Helm chart and shows its Chart.yaml fields', async () => {
    const res = expectStatus(
      await admin.get('/projects/apps/repositories/charts%252Fdemo/artifacts/0.1.0'),
      200,
    );
    const chart = res.body as ArtifactJson;
    assert.equal(chart.digest, chartDigest);
    assert.equal(chart.type, 'CHART');
    assert.equal(chart.media_type, 'application/vnd.cncf.helm.config.v1+json');
    assert.equal(chart.extra_attrs.name, 'demo');
    assert.equal(chart.extra_attrs.version, '0.1.0');
    assert.equal(chart.extra_attrs.appVersion, '1.2.3');
  });

  it('creates, lists and deletes tags', async () => {
    const base = '/projects/apps/repositories/web/artifacts/v1/tags';
    const created = expectStatus(await admin.post(base, { name: 'stable' }), 201);
    assert.match(created.headers.get('location') ?? '', /\/tags\/stable$/);
    expectHarborError(await admin.post(base, { name: 'stable' }), 409, 'CONFLICT');
    expectHarborError(await admin.post(base, { name: 'not a tag!' }), 400, 'BAD_REQUEST');
    const list = expectStatus(await admin.get(base), 200);
    assert.deepEqual(
      (list.body as { name: string }[]).map((t) => t.name),
      ['stable', 'v1'],
    );
    assert.equal(list.headers.get('x-total-count'), '2');
    const pulled = await fetch(new URL('/v2/apps/web/manifests/stable', berth.base), {
      headers: { authorization: auth },
    });
    assert.equal(pulled.status, 200, 'the new tag resolves on /v2');
    await pulled.arrayBuffer();
    expectStatus(await admin.delete(`${base}/stable`), 200);
    expectHarborError(await admin.delete(`${base}/stable`), 404, 'NOT_FOUND');
  });

  it('filters artifacts with q=tags=...', async () => {
    await pushImage(berth.base, auth, 'apps/web', undefined);
    const all = expectStatus(await admin.get('/projects/apps/repositories/web/artifacts'), 200);
    assert.equal(all.headers.get('x-total-count'), '2');
    const tagged = expectStatus(await admin.get('/projects/apps/repositories/web/artifacts?q=tags%3D*'), 200);
    assert.deepEqual(
      (tagged.body as ArtifactJson[]).map((a) => a.digest),
      [image.digest],
    );
    const untagged = expectStatus(
      await admin.get('/projects/apps/repositories/web/artifacts?q=tags%3Dnil'),
      200,
    );
    assert.equal((untagged.body as ArtifactJson[]).length, 1);
    assert.notEqual((untagged.body as ArtifactJson[])[0]!.digest, image.digest);
    const withoutTags = expectStatus(
      await admin.get('/projects/apps/repositories/web/artifacts?with_tag=false&q=tags%3Dv1'),
      200,
    );
    assert.equal((withoutTags.body as ArtifactJson[])[0]!.tags, null);
  });

  it('records pulls of /v2 manifests in the background', async () => {
    const res = await fetch(new URL('/v2/apps/web/manifests/v1', berth.base), {
      headers: { authorization: auth },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    let artifact: ArtifactJson | undefined;
    for (let i = 0; i < 40; i++) {
      artifact = expectStatus(await admin.get('/projects/apps/repositories/web/artifacts/v1'), 200)
        .body as ArtifactJson;
      if (artifact.pull_time !== '0001-01-01T00:00:00.000Z') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.notEqual(artifact?.pull_time, '0001-01-01T00:00:00.000Z', 'the pull was recorded within 4 s');
    const repo = expectStatus(await admin.get('/projects/apps/repositories/web'), 200).body as {
      pull_count: number;
    };
    assert.ok(repo.pull_count >= 1);
  });

  it('refuses to delete an artifact that an index references, and deletes an index with its children', async () => {
    const childPath = `/projects/apps/repositories/team%252Fmulti/artifacts/${multi.children[0]!.digest}`;
    expectHarborError(await admin.delete(childPath), 412, 'PRECONDITION');
    expectStatus(await admin.delete('/projects/apps/repositories/team%252Fmulti/artifacts/latest'), 200);
    expectHarborError(await admin.get(childPath), 404, 'NOT_FOUND');
    const res = await fetch(new URL(`/v2/apps/team/multi/manifests/${multi.index.digest}`, berth.base), {
      headers: { authorization: auth },
    });
    assert.equal(res.status, 404);
    await res.arrayBuffer();
  });

  it('deletes an artifact by tag with all its tags (not only the tag)', async () => {
    const fresh = await pushImage(berth.base, auth, 'apps/web', 'v2');
    expectStatus(
      await admin.post('/projects/apps/repositories/web/artifacts/v2/tags', { name: 'also' }),
      201,
    );
    expectStatus(await admin.delete('/projects/apps/repositories/web/artifacts/v2'), 200);
    expectHarborError(
      await admin.get(`/projects/apps/repositories/web/artifacts/${fresh.digest}`),
      404,
      'NOT_FOUND',
    );
    expectHarborError(await admin.get('/projects/apps/repositories/web/artifacts/also'), 404, 'NOT_FOUND');
  });

  it('keeps artifacts of private projects from strangers and anonymous callers', async () => {
    const anonymous = new Api(berth.base);
    expectHarborError(await anonymous.get('/projects/apps/repositories'), 401, 'UNAUTHORIZED');
    expectHarborError(await anonymous.get('/projects/apps/repositories/web/artifacts'), 401, 'UNAUTHORIZED');
  });

  it('deletes a repository', async () => {
    expectStatus(await admin.delete('/projects/apps/repositories/charts%252Fdemo'), 200);
    expectHarborError(await admin.get('/projects/apps/repositories/charts%252Fdemo'), 404, 'NOT_FOUND');
    expectHarborError(await admin.delete('/projects/apps/repositories/charts%252Fdemo'), 404, 'NOT_FOUND');
  });
});
