// The manifest and config `berth chart push` (the real command) writes are the ones Helm writes, field for
// field (protocols.md section 4): no top-level mediaType, schemaVersion/config/layers/annotations in that
// order, layers sorted by digest, Helm's annotations (chart annotations cannot override title or version),
// and the config is the Chart.yaml metadata as Go's encoding/json writes it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import { clientOf, provenanceFor, sha256, tgz, uniqueProject, uploadChart } from './fixtures.js';

const run = promisify(execFile);
const cli = join(process.cwd(), 'dist/src/cli/main.js');

const chartYaml = `apiVersion: v2
name: fieldcheck
version: 1.0.0+build.5
description: Tools & <things>
home: https://example.test
sources:
  - https://src.one
  - https://src.two
maintainers:
  - name: Ann
    email: ann@example.test
  - name: Bob
appVersion: "2.0"
type: application
annotations:
  example.test/team: core
  org.opencontainers.image.title: hijack
  org.opencontainers.image.version: 9.9.9
unknownField: dropped
`;

// What Go's json.Marshal(chart.Metadata) gives for that Chart.yaml: fields in struct order, HTML escaped.
const expectedConfig =
  '{"name":"fieldcheck","home":"https://example.test","sources":["https://src.one","https://src.two"],"version":"1.0.0+build.5",' +
  '"description":"Tools \\u0026 \\u003cthings\\u003e","maintainers":[{"name":"Ann","email":"ann@example.test"},{"name":"Bob"}],' +
  '"apiVersion":"v2","appVersion":"2.0","annotations":{"example.test/team":"core","org.opencontainers.image.title":"hijack",' +
  '"org.opencontainers.image.version":"9.9.9"},"type":"application"}';

describe('the manifest berth chart push writes', () => {
  let berth: TestBerth;
  let work: string;
  const project = uniqueProject('helmfmt');
  let archive: Buffer;
  let provenance: Buffer;

  before(async () => {
    berth = await startTestBerth();
    work = await mkdtemp(join(tmpdir(), 'berth-helmfmt-'));
    archive = await tgz([
      { header: { name: 'fieldcheck/Chart.yaml' }, body: chartYaml },
      { header: { name: 'fieldcheck/values.yaml' }, body: 'a: 1\n' },
    ]);
    provenance = provenanceFor('fieldcheck', '1.0.0+build.5', archive);
    const file = join(work, 'fieldcheck-1.0.0+build.5.tgz');
    await writeFile(file, archive);
    await writeFile(`${file}.prov`, provenance);
    const mtime = new Date('2024-02-03T04:05:06Z');
    await utimes(file, mtime, mtime);
    const pushed = await run(
      process.execPath,
      [cli, 'chart', 'push', file, `oci://127.0.0.1:${berth.port}/${project}`],
      {
        env: { ...process.env, TZ: 'UTC', DOCKER_CONFIG: work },
      },
    );
    assert.match(
      pushed.stdout,
      new RegExp(`Pushed: 127\\.0\\.0\\.1:${berth.port}/${project}/fieldcheck:1\\.0\\.0_build\\.5`),
    );
  });
  after(() => berth.dispose());

  it('is tagged with the version, + written as _', async () => {
    assert.deepEqual(await clientOf(berth).tags(`${project}/fieldcheck`), ['1.0.0_build.5']);
  });

  it('matches Helm byte for byte: fields, order, no mediaType, sorted layers and annotations', async () => {
    const response = await fetch(`${berth.base}/v2/${project}/fieldcheck/manifests/1.0.0_build.5`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
    const bytes = Buffer.from(await response.arrayBuffer());
    const manifest = JSON.parse(bytes.toString()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(manifest), ['schemaVersion', 'config', 'layers', 'annotations']);
    assert.equal(manifest.mediaType, undefined);
    assert.equal(manifest.schemaVersion, 2);

    const config = Buffer.from(expectedConfig);
    const layers = [
      {
        mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
        digest: sha256(archive),
        size: archive.length,
      },
      {
        mediaType: 'application/vnd.cncf.helm.chart.provenance.v1.prov',
        digest: sha256(provenance),
        size: provenance.length,
      },
    ].sort((a, b) => (a.digest < b.digest ? -1 : 1));
    const annotations = {
      'example.test/team': 'core',
      'org.opencontainers.image.authors': 'Ann (ann@example.test), Bob',
      'org.opencontainers.image.created': '2024-02-03T04:05:06Z',
      'org.opencontainers.image.description': 'Tools & <things>',
      'org.opencontainers.image.source': 'https://src.one',
      'org.opencontainers.image.title': 'fieldcheck',
      'org.opencontainers.image.url': 'https://example.test',
      'org.opencontainers.image.version': '1.0.0+build.5',
    };
    const expected = {
      schemaVersion: 2,
      config: {
        mediaType: 'application/vnd.cncf.helm.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers,
      annotations,
    };
    assert.deepEqual(manifest, expected);
    assert.deepEqual(
      Object.keys(manifest.annotations as object),
      Object.keys(annotations),
      'annotation keys sorted',
    );
    for (const layer of manifest.layers as object[])
      assert.deepEqual(Object.keys(layer), ['mediaType', 'digest', 'size']);
    // Go's encoding/json escapes <, > and & in strings: the exact bytes Helm sends.
    const goBytes = JSON.stringify(expected).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
    assert.equal(bytes.toString(), goBytes);
  });

  it('writes the config as Helm does: the Chart.yaml metadata as Go JSON, unknown fields dropped', async () => {
    const config = await clientOf(berth).blob(`${project}/fieldcheck`, sha256(Buffer.from(expectedConfig)));
    assert.equal(config.toString(), expectedConfig);
  });

  it('stores a ChartMuseum upload with the same manifest shape', async () => {
    const uploaded = await tgz([
      { header: { name: 'viaapi/Chart.yaml' }, body: 'apiVersion: v2\nname: viaapi\nversion: 0.1.0\n' },
    ]);
    assert.equal((await uploadChart(berth, project, uploaded)).status, 201);
    const manifest = await clientOf(berth).manifest(`${project}/viaapi`, '0.1.0');
    assert.ok(manifest);
    const parsed = JSON.parse(manifest.bytes.toString()) as {
      annotations: Record<string, string>;
      layers: unknown[];
    };
    assert.deepEqual(Object.keys(parsed), ['schemaVersion', 'config', 'layers', 'annotations']);
    assert.deepEqual(Object.keys(parsed.annotations), [
      'org.opencontainers.image.created',
      'org.opencontainers.image.title',
      'org.opencontainers.image.version',
    ]);
    assert.match(
      parsed.annotations['org.opencontainers.image.created']!,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    assert.deepEqual(parsed.layers, [
      {
        mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
        digest: sha256(uploaded),
        size: uploaded.length,
      },
    ]);
  });
});
