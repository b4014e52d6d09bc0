// `berth chart package` lays a chart out as `helm package` does (top folder named after the chart,
// .helmignore honoured, dependencies under charts/, Chart.yaml validated and rewritten), and
// `berth chart pull` resolves SemVer ranges through the tag list.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { parse as parseYaml } from 'yaml';
import { pushChart } from '../../src/cli/charts/oci-chart.js';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import { chartArchive, chartDir, clientOf, sha256, uniqueProject } from './fixtures.js';

const cli = join(process.cwd(), 'dist/src/cli/main.js');

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [cli, ...args], { env }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

async function entriesOf(archive: Buffer): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.set(entry.header.name, Buffer.concat(chunks));
    }
  })();
  Readable.from([gunzipSync(archive)]).pipe(extract);
  await done;
  return entries;
}

describe('berth chart package and pull', () => {
  let berth: TestBerth;
  let out: string;

  before(async () => {
    berth = await startTestBerth();
    out = await mkdtemp(join(tmpdir(), 'berth-pkg-out-'));
  });
  after(() => berth.dispose());

  it('packages a folder as helm package lays it out', async () => {
    const dependencyArchive = await chartArchive('packed', '1.0.0');
    const dir = await chartDir({
      'Chart.yaml': [
        'apiVersion: v2',
        'name: webapp',
        'version: 1.4.0',
        'description: A web app',
        'dependencies:',
        '  - name: packed',
        '    version: 1.0.0',
        '    repository: https://charts.example',
        '  - name: local',
        '    version: 0.1.0',
        '    repository: file://charts/local',
        'extra: dropped',
        '',
      ].join('\n'),
      'Chart.lock':
        'dependencies:\n- name: packed\n  repository: https://charts.example\n  version: 1.0.0\ndigest: sha256:abc\ngenerated: "2024-01-01T00:00:00Z"\n',
      'values.yaml': 'replicas: 2\n',
      '.helmignore': '# comments are ignored\n*.bak\nsecrets/\n',
      'templates/deployment.yaml': 'kind: Deployment\n',
      'templates/.hidden.yaml': 'ignored by Helm default rule\n',
      'templates/old.bak': 'ignored by .helmignore\n',
      'secrets/key.pem': 'ignored folder\n',
      'README.md': '# webapp\n',
      'charts/local/Chart.yaml': 'apiVersion: v2\nname: local\nversion: 0.1.0\n',
      'charts/local/templates/cm.yaml': 'kind: ConfigMap\n',
      'charts/packed-1.0.0.tgz': dependencyArchive,
    });
    const result = await runCli(['chart', 'package', dir, '-d', out]);
    assert.equal(result.code, 0, result.stderr);
    const path = join(out, 'webapp-1.4.0.tgz');
    assert.match(
      result.stdout,
      new RegExp(
        `Successfully packaged chart and saved it to: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
      ),
    );
    const archive = await readFile(path);
    assert.equal(archive.subarray(0, 3).toString('hex'), '1f8b08');
    assert.ok(archive.includes(Buffer.from('Helm\0')), 'gzip comment as Helm writes it');

    const entries = await entriesOf(archive);
    assert.deepEqual(
      [...entries.keys()],
      [
        'webapp/Chart.yaml',
        'webapp/Chart.lock',
        'webapp/values.yaml',
        'webapp/templates/deployment.yaml',
        'webapp/.helmignore',
        'webapp/README.md',
        'webapp/charts/local/Chart.yaml',
        'webapp/charts/local/templates/cm.yaml',
        'webapp/charts/packed/Chart.yaml',
        'webapp/charts/packed/values.yaml',
        'webapp/charts/packed/templates/deployment.yaml',
      ],
    );
    const chart = entries.get('webapp/Chart.yaml')!.toString();
    assert.ok(chart.startsWith('apiVersion: v2\ndependencies:\n- name: packed\n'), chart);
    assert.ok(!chart.includes('extra'), 'unknown fields are dropped, as Helm rewrites Chart.yaml');
    assert.deepEqual(Object.keys(parseYaml(chart) as object), [
      'apiVersion',
      'dependencies',
      'description',
      'name',
      'version',
    ]);
  });

  it('refuses a chart whose Chart.yaml is invalid or whose dependencies are missing', async () => {
    const badVersion = await chartDir({ 'Chart.yaml': 'apiVersion: v2\nname: bad\nversion: "1.0"\n' });
    const refused = await runCli(['chart', 'package', badVersion, '-d', out]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /version "1\.0" is not a valid SemVer 2 version/);

    const missing = await chartDir({
      'Chart.yaml':
        'apiVersion: v2\nname: needy\nversion: 1.0.0\ndependencies:\n  - name: gone\n    version: 1.0.0\n    repository: https://x\n',
    });
    const result = await runCli(['chart', 'package', missing, '-d', out]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /missing in charts\/ directory: gone/);
  });

  it('pulls the newest version matching a range, mapping _ in tags back to +', async () => {
    const project = uniqueProject('pull');
    const client = clientOf(berth);
    const archives = new Map<string, Buffer>();
    for (const version of ['1.0.0', '1.2.0+build.3', '1.10.0-rc.1', '2.0.0']) {
      const archive = await chartArchive('ranged', version);
      archives.set(version, archive);
      await pushChart(client, project, archive, { created: '2024-01-01T00:00:00Z' });
    }
    const dest = await mkdtemp(join(tmpdir(), 'berth-pull-'));
    const remote = `oci://127.0.0.1:${berth.port}/${project}/ranged`;
    const ranged = await runCli(['chart', 'pull', remote, '--version', '^1.0.0', '-d', dest]);
    assert.equal(ranged.code, 0, ranged.stderr);
    const file = await readFile(join(dest, 'ranged-1.2.0+build.3.tgz'));
    assert.equal(sha256(file), sha256(archives.get('1.2.0+build.3')!));

    const exact = await runCli(['chart', 'pull', remote, '--version', '1.10.0-rc.1', '-d', dest]);
    assert.equal(exact.code, 0, exact.stderr);
    await readFile(join(dest, 'ranged-1.10.0-rc.1.tgz'));
    const newest = await runCli(['chart', 'pull', remote, '-d', dest]);
    assert.equal(newest.code, 0, newest.stderr);
    await readFile(join(dest, 'ranged-2.0.0.tgz'));
    const none = await runCli(['chart', 'pull', remote, '--version', '>=3.0.0', '-d', dest]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no version of .* matches >=3\.0\.0/);
  });
});
