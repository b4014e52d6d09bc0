// A chart moves between the three ways in (berth chart push over OCI, the ChartMuseum upload API) and the
// three ways out (OCI pull, the classic repository's index.yaml and archives, the ChartMuseum API) without
// a byte changing, and a delete removes it from every view.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { pullChart, pushChart } from '../../src/cli/charts/oci-chart.js';
import { packageChartDir } from '../../src/cli/charts/package.js';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  chartArchive,
  chartDir,
  clientOf,
  getBytes,
  hex,
  provenanceFor,
  sha256,
  uniqueProject,
  uploadChart,
  uploadForm,
} from './fixtures.js';

interface IndexFile {
  entries: Record<string, { version: string; digest: string; urls: string[] }[]>;
}

describe('chart round trips', () => {
  let berth: TestBerth;
  const project = uniqueProject('rt');

  before(async () => {
    berth = await startTestBerth();
  });
  after(() => berth.dispose());

  async function index(): Promise<IndexFile> {
    const response = await getBytes(`${berth.base}/chartrepo/${project}/index.yaml`);
    assert.equal(response.status, 200);
    return parseYaml(response.bytes.toString('utf8')) as IndexFile;
  }

  it('packages, pushes over OCI and pulls over OCI with the archive unchanged', async () => {
    const dir = await chartDir({
      'Chart.yaml': 'apiVersion: v2\nname: roundtrip\nversion: 0.1.0\ndescription: round trip\n',
      'values.yaml': 'image: nginx\n',
      'templates/service.yaml': 'kind: Service\n',
    });
    const packaged = await packageChartDir(dir);
    const client = clientOf(berth);
    const pushed = await pushChart(client, project, packaged.archive, { created: '2024-05-06T07:08:09Z' });
    assert.equal(pushed.repository, `${project}/roundtrip`);
    assert.equal(pushed.tag, '0.1.0');
    assert.equal(pushed.chartDigest, sha256(packaged.archive));

    const pulled = await pullChart(client, `${project}/roundtrip`, '0.1.0');
    assert.equal(sha256(pulled.archive), sha256(packaged.archive));
    assert.equal(pulled.metadata.name, 'roundtrip');

    const listed = (await index()).entries.roundtrip;
    assert.ok(listed !== undefined, 'index.yaml lists the chart');
    assert.deepEqual(
      listed.map((v) => v.version),
      ['0.1.0'],
    );
    assert.equal(listed[0]!.digest, hex(packaged.archive));
    assert.deepEqual(listed[0]!.urls, ['charts/roundtrip-0.1.0.tgz']);
    const classic = await getBytes(`${berth.base}/chartrepo/${project}/${listed[0]!.urls[0]!}`);
    assert.equal(classic.status, 200);
    assert.equal(hex(classic.bytes), listed[0]!.digest, 'the classic archive has the digest the index gives');
    assert.equal(sha256(classic.bytes), sha256(packaged.archive));
  });

  it('serves a chart uploaded through the ChartMuseum API over OCI, with the same bytes', async () => {
    const archive = await chartArchive('uploaded', '1.2.3+build.7');
    const response = await uploadChart(berth, project, archive);
    assert.equal(response.status, 201);
    assert.deepEqual(await response.json(), { saved: true });

    const client = clientOf(berth);
    assert.deepEqual(await client.tags(`${project}/uploaded`), ['1.2.3_build.7']);
    const pulled = await pullChart(client, `${project}/uploaded`, '1.2.3+build.7');
    assert.equal(sha256(pulled.archive), sha256(archive));
    assert.equal(pulled.version, '1.2.3+build.7');
    const classic = await getBytes(`${berth.base}/chartrepo/${project}/charts/uploaded-1.2.3+build.7.tgz`);
    assert.equal(sha256(classic.bytes), sha256(archive));
  });

  it('lists a chart pushed over OCI in the ChartMuseum API', async () => {
    const archive = await chartArchive('ocipushed', '2.0.0');
    await pushChart(clientOf(berth), project, archive, { created: '2024-01-01T00:00:00Z' });
    const response = await fetch(`${berth.base}/api/chartrepo/${project}/charts/ocipushed/2.0.0`);
    assert.equal(response.status, 200);
    const version = (await response.json()) as {
      name: string;
      version: string;
      digest: string;
      urls: string[];
    };
    assert.equal(version.name, 'ocipushed');
    assert.equal(version.digest, hex(archive));
    assert.deepEqual(version.urls, ['charts/ocipushed-2.0.0.tgz']);
  });

  it('uploads a chart with its provenance file (multipart) and serves both ways', async () => {
    const archive = await chartArchive('signed', '0.3.0');
    const provenance = provenanceFor('signed', '0.3.0', archive);
    const response = await uploadForm(berth, project, { chart: archive, prov: provenance });
    assert.equal(response.status, 201, await response.clone().text());
    const prov = await getBytes(`${berth.base}/chartrepo/${project}/charts/signed-0.3.0.tgz.prov`);
    assert.equal(prov.status, 200);
    assert.equal(prov.bytes.toString(), provenance.toString());
    const pulled = await pullChart(clientOf(berth), `${project}/signed`, '0.3.0', true);
    assert.equal(pulled.provenance?.toString(), provenance.toString());
  });

  it('deleting a version through the ChartMuseum API removes it from the OCI and classic views', async () => {
    const client = clientOf(berth);
    await pushChart(client, project, await chartArchive('doomed', '1.0.0'), {
      created: '2024-01-01T00:00:00Z',
    });
    await pushChart(client, project, await chartArchive('doomed', '1.1.0'), {
      created: '2024-01-01T00:00:00Z',
    });
    assert.deepEqual(
      (await index()).entries.doomed?.map((v) => v.version),
      ['1.1.0', '1.0.0'],
    );

    const response = await fetch(`${berth.base}/api/chartrepo/${project}/charts/doomed/1.0.0`, {
      method: 'DELETE',
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { deleted: true });
    assert.deepEqual(await client.tags(`${project}/doomed`), ['1.1.0']);
    assert.equal(await client.resolve(`${project}/doomed`, '1.0.0'), undefined);
    assert.deepEqual(
      (await index()).entries.doomed?.map((v) => v.version),
      ['1.1.0'],
    );
    assert.equal((await getBytes(`${berth.base}/chartrepo/${project}/charts/doomed-1.0.0.tgz`)).status, 404);

    const again = await fetch(`${berth.base}/api/chartrepo/${project}/charts/doomed/1.0.0`, {
      method: 'DELETE',
    });
    assert.equal(again.status, 404);
    assert.ok(typeof ((await again.json()) as { error?: unknown }).error === 'string');
  });

  it('deleting over OCI removes the version from the classic index', async () => {
    const client = clientOf(berth);
    const pushed = await pushChart(client, project, await chartArchive('ocidel', '3.0.0'), {
      created: '2024-01-01T00:00:00Z',
    });
    assert.ok((await index()).entries.ocidel);
    const response = await fetch(`${berth.base}/v2/${pushed.repository}/manifests/${pushed.digest}`, {
      method: 'DELETE',
    });
    assert.equal(response.status, 202);
    assert.equal((await index()).entries.ocidel, undefined);
  });
});
