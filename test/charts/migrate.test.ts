// `berth chart migrate` copies a classic Helm repository (served here by a small HTTP server with Basic auth)
// into OCI charts: every version and its .prov, checked against the index digest; a wrong digest is reported
// as failed; running it again skips what is already there, and a run cut short is finished by the next.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { migrateRepository } from '../../src/cli/charts/migrate.js';
import { pullChart } from '../../src/cli/charts/oci-chart.js';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import { chartArchive, clientOf, hex, provenanceFor, sha256, uniqueProject } from './fixtures.js';

const cli = join(process.cwd(), 'dist/src/cli/main.js');

interface ClassicChart {
  name: string;
  version: string;
  archive: Buffer;
  provenance?: Buffer;
  /** The digest written in index.yaml (wrong on purpose for one chart). */
  indexDigest: string;
}

/** A classic chart repository: index.yaml, charts/<file>.tgz and .tgz.prov, behind Basic auth. */
async function classicRepository(
  charts: ClassicChart[],
  flaky: Set<string>,
): Promise<{ server: Server; url: string; downloads: string[] }> {
  const entries: Record<string, unknown[]> = {};
  for (const chart of charts) {
    (entries[chart.name] ??= []).push({
      apiVersion: 'v2',
      name: chart.name,
      version: chart.version,
      created: '2023-03-04T05:06:07.123456789Z',
      digest: chart.indexDigest,
      urls: [`charts/${chart.name}-${chart.version}.tgz`],
    });
  }
  const index = stringify({ apiVersion: 'v1', entries, generated: '2023-03-04T05:06:07Z' });
  const files = new Map<string, Buffer>();
  for (const chart of charts) {
    files.set(`/repo/charts/${chart.name}-${chart.version}.tgz`, chart.archive);
    if (chart.provenance !== undefined)
      files.set(`/repo/charts/${chart.name}-${chart.version}.tgz.prov`, chart.provenance);
  }
  const downloads: string[] = [];
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('reader:s3cret').toString('base64')}`) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="classic"' }).end();
      return;
    }
    const path = req.url ?? '/';
    if (flaky.delete(path)) {
      res.writeHead(503).end();
      return;
    }
    if (path === '/repo/index.yaml') {
      res.writeHead(200, { 'Content-Type': 'application/x-yaml' }).end(index);
      return;
    }
    const file = files.get(path);
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    downloads.push(path);
    res.writeHead(200, { 'Content-Length': String(file.length) }).end(file);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo`, downloads };
}

async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [cli, ...args], { env }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

describe('chart migrate', () => {
  let berth: TestBerth;
  let classic: Awaited<ReturnType<typeof classicRepository>>;
  let charts: ClassicChart[];
  const flaky = new Set<string>();
  let dockerConfig: string;

  before(async () => {
    berth = await startTestBerth();
    dockerConfig = await mkdtemp(join(tmpdir(), 'berth-migrate-'));
    charts = [];
    for (const version of ['1.0.0', '1.1.0', '2.0.0']) {
      const archive = await chartArchive('alpha', version);
      charts.push({
        name: 'alpha',
        version,
        archive,
        indexDigest: hex(archive),
        ...(version === '1.1.0' && { provenance: provenanceFor('alpha', version, archive) }),
      });
    }
    for (const version of ['0.1.0', '0.2.0']) {
      const archive = await chartArchive('beta', version);
      charts.push({
        name: 'beta',
        version,
        archive,
        indexDigest: version === '0.2.0' ? hex('something else') : hex(archive),
      });
    }
    classic = await classicRepository(charts, flaky);
  });
  after(async () => {
    await new Promise<void>((done) => classic.server.close(() => done()));
    await berth.dispose();
  });

  it('migrates every version with its .prov, reports the wrong digest as failed, and skips everything the second time', async () => {
    const project = uniqueProject('mig');
    const args = [
      'chart',
      'migrate',
      '--from',
      classic.url,
      '--username',
      'reader',
      '--password',
      's3cret',
      '--to',
      `oci://127.0.0.1:${berth.port}/${project}`,
    ];
    const env = { ...process.env, DOCKER_CONFIG: dockerConfig };

    const first = await runCli(args, env);
    assert.equal(first.code, 1, 'a failed version makes the exit code 1');
    assert.match(first.stdout, /^migrated alpha 1\.0\.0$/m);
    assert.match(first.stdout, /^migrated alpha 1\.1\.0: with provenance$/m);
    assert.match(first.stdout, /^migrated beta 0\.1\.0$/m);
    assert.match(first.stdout, /^failed beta 0\.2\.0: digest mismatch/m);
    assert.match(first.stdout, /^4 migrated, 0 skipped, 1 failed \(of 5\)$/m);

    const client = clientOf(berth);
    for (const chart of charts.filter((c) => !(c.name === 'beta' && c.version === '0.2.0'))) {
      const pulled = await pullChart(client, `${project}/${chart.name}`, chart.version, true);
      assert.equal(sha256(pulled.archive), sha256(chart.archive), `${chart.name} ${chart.version} unchanged`);
      assert.equal(pulled.provenance?.toString(), chart.provenance?.toString());
    }
    assert.equal(
      await client.resolve(`${project}/beta`, '0.2.0'),
      undefined,
      'the mismatching archive is not stored',
    );

    const downloadsBefore = classic.downloads.length;
    const second = await runCli(args, env);
    assert.equal(second.code, 1);
    assert.match(second.stdout, /^0 migrated, 4 skipped, 1 failed \(of 5\)$/m);
    assert.equal((second.stdout.match(/^skipped /gm) ?? []).length, 4);
    assert.equal(
      classic.downloads.length - downloadsBefore,
      1,
      'only the failing archive is downloaded again',
    );
  });

  it('resumes: a version that failed midway is migrated by the next run, the rest skipped', async () => {
    const project = uniqueProject('resume');
    flaky.add('/repo/charts/alpha-2.0.0.tgz');
    const options = {
      from: classic.url,
      credentials: { username: 'reader', password: 's3cret' },
      client: clientOf(berth),
      toPath: project,
    };
    const first = await migrateRepository(options);
    assert.deepEqual(
      first.failed.map((f) => `${f.name} ${f.version}`),
      ['alpha 2.0.0', 'beta 0.2.0'],
    );
    assert.equal(first.migrated, 3);
    const second = await migrateRepository(options);
    assert.equal(second.migrated, 1);
    assert.equal(second.skipped, 3);
    assert.deepEqual(
      second.failed.map((f) => `${f.name} ${f.version}`),
      ['beta 0.2.0'],
    );
    const index = await (await fetch(`${berth.base}/chartrepo/${project}/index.yaml`)).text();
    assert.match(index, /version: 2\.0\.0/);
    const manifest = await clientOf(berth).manifest(`${project}/alpha`, '2.0.0');
    const annotations = (JSON.parse(manifest!.bytes.toString()) as { annotations: Record<string, string> })
      .annotations;
    assert.equal(
      annotations['org.opencontainers.image.created'],
      '2023-03-04T05:06:07Z',
      'created comes from the classic index',
    );
  });

  it('refuses a repository whose index.yaml cannot be read', async () => {
    await assert.rejects(
      migrateRepository({ from: classic.url, client: clientOf(berth), toPath: uniqueProject('noauth') }),
      /index\.yaml: HTTP 401/,
    );
  });
});
