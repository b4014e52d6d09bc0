// index.yaml is in Helm's strict format (only the fields Helm's structs have, strings that YAML 1.1 keeps
// as strings), versions newest first by SemVer, and it stays current on push and delete while being served
// from a cache with ETag revalidation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { pushChart } from '../../src/cli/charts/oci-chart.js';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import { pushImage } from '../support/oci-client.js';
import { chartArchive, clientOf, getBytes, hex, tgz, uniqueProject } from './fixtures.js';

// Helm's repo.IndexFile, repo.ChartVersion (chart.Metadata embedded), chart.Maintainer and chart.Dependency.
const indexFields = new Set([
  'serverInfo',
  'apiVersion',
  'generated',
  'entries',
  'publicKeys',
  'annotations',
]);
const metadataFields = [
  'name',
  'home',
  'sources',
  'version',
  'description',
  'keywords',
  'maintainers',
  'icon',
  'apiVersion',
  'condition',
  'tags',
  'appVersion',
  'deprecated',
  'annotations',
  'kubeVersion',
  'dependencies',
  'type',
];
const versionFields = new Set([
  ...metadataFields,
  'urls',
  'created',
  'removed',
  'digest',
  'checksum',
  'engine',
  'tillerVersion',
  'url',
]);
const maintainerFields = new Set(['name', 'email', 'url']);
const dependencyFields = new Set([
  'name',
  'version',
  'repository',
  'condition',
  'tags',
  'enabled',
  'import-values',
  'alias',
]);
const stringFields = [
  'name',
  'home',
  'version',
  'description',
  'icon',
  'apiVersion',
  'condition',
  'tags',
  'appVersion',
  'kubeVersion',
  'type',
  'digest',
  'created',
];
const rfc3339Nano = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

/** Reads index.yaml as Helm does (YAML 1.1, unknown fields are errors) and returns its entries. */
function parseStrict(text: string): Record<string, Record<string, unknown>[]> {
  const index = parseYaml(text, { version: '1.1', uniqueKeys: true }) as Record<string, unknown>;
  for (const key of Object.keys(index)) assert.ok(indexFields.has(key), `unknown index field ${key}`);
  assert.equal(index.apiVersion, 'v1');
  assert.equal(typeof index.generated, 'string');
  assert.match(index.generated as string, rfc3339Nano);
  const entries = index.entries as Record<string, Record<string, unknown>[]>;
  for (const [name, versions] of Object.entries(entries)) {
    for (const version of versions) {
      for (const key of Object.keys(version))
        assert.ok(versionFields.has(key), `unknown field ${key} in ${name}`);
      for (const key of stringFields)
        if (key in version) assert.equal(typeof version[key], 'string', `${name} ${key} is a string`);
      assert.match(version.created as string, rfc3339Nano);
      assert.match(version.digest as string, /^[a-f0-9]{64}$/);
      for (const m of (version.maintainers as Record<string, unknown>[] | undefined) ?? []) {
        for (const key of Object.keys(m))
          assert.ok(maintainerFields.has(key), `unknown maintainer field ${key}`);
      }
      for (const d of (version.dependencies as Record<string, unknown>[] | undefined) ?? []) {
        for (const key of Object.keys(d))
          assert.ok(dependencyFields.has(key), `unknown dependency field ${key}`);
      }
    }
  }
  return entries;
}

describe('index.yaml', () => {
  let berth: TestBerth;
  const project = uniqueProject('idx');
  const pushed = ['1.0.0', '1.10.0', '0.9.0', '2.0.0-rc.1', '1.2.0', '2.0.0'];

  before(async () => {
    berth = await startTestBerth();
    const client = clientOf(berth);
    for (const version of pushed)
      await pushChart(client, project, await chartArchive('sorted', version), {
        created: '2024-01-01T00:00:00Z',
      });
    const rich = await tgz([
      {
        header: { name: 'rich/Chart.yaml' },
        body: [
          'apiVersion: v2',
          'name: rich',
          'version: 0.1.0',
          'appVersion: "1.10"',
          'kubeVersion: ">=1.22.0-0"',
          'description: "yes"',
          'home: https://rich.example',
          'icon: https://rich.example/icon.png',
          'keywords: [web, "on", "1.0"]',
          'sources: [https://git.example/rich]',
          'maintainers: [{name: Ann, email: ann@example.test, url: https://ann.example}]',
          'deprecated: true',
          'annotations: {category: Web, "null": "~"}',
          'dependencies:',
          '  - name: sub',
          '    version: 1.x',
          '    repository: https://charts.example',
          '    condition: sub.enabled',
          '    tags: [front]',
          '    import-values: [data]',
          '    alias: child',
          'extraField: not-in-helm',
          '',
        ].join('\n'),
      },
      { header: { name: 'rich/charts/sub/Chart.yaml' }, body: 'apiVersion: v2\nname: sub\nversion: 1.0.0\n' },
    ]);
    await pushChart(client, project, rich, { created: '2024-01-01T00:00:00Z' });
    await pushImage(berth.base, `${project}/not-a-chart`, 'v1');
  });
  after(() => berth.dispose());

  async function read(headers: Record<string, string> = {}) {
    return getBytes(`${berth.base}/chartrepo/${project}/index.yaml`, headers);
  }

  it("parses strictly against Helm's field set, with YAML 1.1 types", async () => {
    const response = await read();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-yaml');
    const entries = parseStrict(response.bytes.toString());
    assert.deepEqual(Object.keys(entries).sort(), ['rich', 'sorted'], 'images are not charts');
    const rich = entries.rich![0]!;
    assert.equal(rich.appVersion, '1.10');
    assert.equal(rich.description, 'yes');
    assert.deepEqual(rich.keywords, ['web', 'on', '1.0']);
    assert.equal(rich.deprecated, true);
    assert.deepEqual(rich.annotations, { category: 'Web', null: '~' });
    assert.deepEqual(rich.dependencies, [
      {
        alias: 'child',
        condition: 'sub.enabled',
        'import-values': ['data'],
        name: 'sub',
        repository: 'https://charts.example',
        tags: ['front'],
        version: '1.x',
      },
    ]);
    assert.equal(rich.extraField, undefined);
    assert.deepEqual(rich.urls, ['charts/rich-0.1.0.tgz']);
  });

  it('lists versions newest first by SemVer precedence, each with its archive digest', async () => {
    const entries = parseStrict((await read()).bytes.toString());
    assert.deepEqual(
      entries.sorted!.map((v) => v.version),
      ['2.0.0', '2.0.0-rc.1', '1.10.0', '1.2.0', '1.0.0', '0.9.0'],
    );
    for (const version of entries.sorted!) {
      const archive = await getBytes(
        `${berth.base}/chartrepo/${project}/charts/sorted-${String(version.version)}.tgz`,
      );
      assert.equal(archive.status, 200);
      assert.equal(hex(archive.bytes), version.digest);
    }
  });

  it('is served from cache with an ETag until something changes, then current again', async () => {
    const first = await read();
    const second = await read();
    assert.equal(second.bytes.toString(), first.bytes.toString(), 'not regenerated per request');
    const etag = first.headers.get('etag');
    assert.ok(etag !== null);
    const revalidated = await read({ 'If-None-Match': etag });
    assert.equal(revalidated.status, 304);

    await pushChart(clientOf(berth), project, await chartArchive('sorted', '3.0.0'), {
      created: '2024-01-01T00:00:00Z',
    });
    const afterPush = await read({ 'If-None-Match': etag });
    assert.equal(afterPush.status, 200);
    assert.notEqual(afterPush.headers.get('etag'), etag);
    assert.equal(parseStrict(afterPush.bytes.toString()).sorted![0]!.version, '3.0.0');

    const tagDelete = await fetch(`${berth.base}/v2/${project}/sorted/manifests/3.0.0`, { method: 'DELETE' });
    assert.equal(tagDelete.status, 202);
    assert.equal(parseStrict((await read()).bytes.toString()).sorted![0]!.version, '2.0.0');
  });

  it('lists a version once even when another tag points at the same chart', async () => {
    const client = clientOf(berth);
    const manifest = await client.manifest(`${project}/sorted`, '1.0.0');
    assert.ok(manifest);
    await client.putManifest(
      `${project}/sorted`,
      'latest',
      manifest.bytes,
      'application/vnd.oci.image.manifest.v1+json',
    );
    const versions = parseStrict((await read()).bytes.toString()).sorted!.map((v) => v.version);
    assert.equal(versions.filter((v) => v === '1.0.0').length, 1);
    assert.ok(!versions.includes('latest'));
  });

  it('is an empty index for a project without charts', async () => {
    const response = await getBytes(`${berth.base}/chartrepo/${uniqueProject('empty')}/index.yaml`);
    assert.equal(response.status, 200);
    assert.deepEqual(parseStrict(response.bytes.toString()), {});
  });
});
