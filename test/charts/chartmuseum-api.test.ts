// The ChartMuseum API under /api/chartrepo/{project}: listing with offset and limit, one chart, one
// version (and `latest`), HEAD, 409 on an existing version unless ?force, provenance uploads, and
// {"error": ...} bodies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  chartArchive,
  clientOf,
  getBytes,
  provenanceFor,
  sha256,
  uniqueProject,
  uploadChart,
  uploadForm,
} from './fixtures.js';

describe('ChartMuseum API', () => {
  let berth: TestBerth;
  const project = uniqueProject('cm');
  const api = (path: string) => `${berth.base}/api/chartrepo/${project}${path}`;

  before(async () => {
    berth = await startTestBerth();
    for (const [name, version] of [
      ['apple', '1.0.0'],
      ['apple', '1.1.0'],
      ['apple', '2.0.0-beta.1'],
      ['banana', '0.1.0'],
      ['cherry', '3.0.0'],
    ] as const) {
      const response = await uploadChart(berth, project, await chartArchive(name, version));
      assert.equal(response.status, 201);
    }
  });
  after(() => berth.dispose());

  it('lists every chart with its versions, and pages by chart name with offset and limit', async () => {
    const all = (await (await fetch(api('/charts'))).json()) as Record<string, { version: string }[]>;
    assert.deepEqual(Object.keys(all), ['apple', 'banana', 'cherry']);
    assert.deepEqual(
      all.apple!.map((v) => v.version),
      ['2.0.0-beta.1', '1.1.0', '1.0.0'],
    );
    const page = (await (await fetch(api('/charts?offset=1&limit=1'))).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(page), ['banana']);
    const bad = await fetch(api('/charts?limit=0'));
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: 'limit is not a valid positive integer' });
    assert.equal((await fetch(api('/charts?offset=-1'))).status, 400);
  });

  it('describes one chart and one version; latest is the newest stable one', async () => {
    const versions = (await (await fetch(api('/charts/apple'))).json()) as { version: string }[];
    assert.equal(versions.length, 3);
    const latest = (await (await fetch(api('/charts/apple/latest'))).json()) as {
      version: string;
      urls: string[];
    };
    assert.equal(latest.version, '1.1.0');
    assert.deepEqual(latest.urls, ['charts/apple-1.1.0.tgz']);
    const missing = await fetch(api('/charts/apple/9.9.9'));
    assert.equal(missing.status, 404);
    assert.match(
      ((await missing.json()) as { error: string }).error,
      /no chart version found for apple-9\.9\.9/,
    );
    const none = await fetch(api('/charts/durian'));
    assert.equal(none.status, 404);
    assert.deepEqual(await none.json(), { error: 'chart not found' });
  });

  it('answers HEAD with the status only', async () => {
    const found = await fetch(api('/charts/banana/0.1.0'), { method: 'HEAD' });
    assert.equal(found.status, 200);
    assert.equal((await found.arrayBuffer()).byteLength, 0);
    assert.equal((await fetch(api('/charts/banana'), { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(api('/charts/banana/0.2.0'), { method: 'HEAD' })).status, 404);
  });

  it('refuses an existing version with 409 unless ?force, which replaces it', async () => {
    const replacement = await chartArchive('cherry', '3.0.0', 'keywords: [replaced]\n');
    const conflict = await uploadChart(berth, project, replacement);
    assert.equal(conflict.status, 409);
    assert.deepEqual(await conflict.json(), { error: 'file already exists' });
    const before = await clientOf(berth).resolve(`${project}/cherry`, '3.0.0');
    const forced = await uploadChart(berth, project, replacement, '?force');
    assert.equal(forced.status, 201);
    const served = await getBytes(`${berth.base}/chartrepo/${project}/charts/cherry-3.0.0.tgz`);
    assert.equal(sha256(served.bytes), sha256(replacement));
    const manifests = await berth.metadata.manifests.list(`${project}/cherry`, { offset: 0, limit: 10 });
    assert.equal(manifests.total, 1, 'the replaced manifest is removed');
    assert.notEqual(manifests.items[0]!.digest, before);
  });

  it('adds a provenance file to a stored version, once unless ?force', async () => {
    const archive = await getBytes(`${berth.base}/chartrepo/${project}/charts/banana-0.1.0.tgz`);
    const provenance = provenanceFor('banana', '0.1.0', archive.bytes);
    const saved = await fetch(api('/prov'), { method: 'POST', body: new Uint8Array(provenance) });
    assert.equal(saved.status, 201);
    assert.deepEqual(await saved.json(), { saved: true });
    const served = await getBytes(`${berth.base}/chartrepo/${project}/charts/banana-0.1.0.tgz.prov`);
    assert.equal(served.bytes.toString(), provenance.toString());
    const again = await fetch(api('/prov'), { method: 'POST', body: new Uint8Array(provenance) });
    assert.equal(again.status, 409);
    const chartStill = await getBytes(`${berth.base}/chartrepo/${project}/charts/banana-0.1.0.tgz`);
    assert.equal(sha256(chartStill.bytes), sha256(archive.bytes));

    const orphan = await fetch(api('/prov'), {
      method: 'POST',
      body: new Uint8Array(provenanceFor('nothing', '1.0.0', archive.bytes)),
    });
    assert.equal(orphan.status, 404);
    const garbage = await fetch(api('/prov'), { method: 'POST', body: 'hello' });
    assert.equal(garbage.status, 400);
    assert.deepEqual(await garbage.json(), { error: 'invalid provenance file' });
  });

  it('refuses a form without chart or prov fields, and unknown methods', async () => {
    const empty = await uploadForm(berth, project, {});
    assert.equal(empty.status, 400);
    assert.match(((await empty.json()) as { error: string }).error, /no package or provenance file/);
    const put = await fetch(api('/charts'), { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal((await fetch(`${berth.base}/chartrepo/${project}/charts/nothing-1.0.0.tgz`)).status, 404);
    assert.equal((await fetch(`${berth.base}/chartrepo/Bad_Project/index.yaml`)).status, 404);
  });
});
