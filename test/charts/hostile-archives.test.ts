// Hostile chart archives are refused with a message of their own, on every way in (the inspector itself,
// a manifest PUT over OCI, the ChartMuseum upload API), and nothing is stored: no manifest, no tag.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { inspectChartArchive } from '../../src/core/charts/archive.js';
import { ChartError } from '../../src/core/charts/metadata.js';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import { chartYaml, clientOf, tgz, uniqueProject, uploadChart } from './fixtures.js';

const MiB = 1024 * 1024;

/** A gzip bomb: 24 files of 4.5 MiB of zeros (108 MiB inflated), a few hundred KiB compressed, built as a stream. */
async function gzipBomb(): Promise<Buffer> {
  const pack = tar.pack();
  const gzip = createGzip();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack.pipe(gzip)) chunks.push(chunk as Buffer);
  })();
  await new Promise<void>((done) =>
    pack.entry({ name: 'bomb/Chart.yaml' }, chartYaml('bomb', '1.0.0'), () => done()),
  );
  const zeros = Buffer.alloc(MiB / 2);
  for (let i = 0; i < 24; i++) {
    const size = 9 * zeros.length;
    await new Promise<void>((done, fail) => {
      const entry = pack.entry({ name: `bomb/files/zero-${i}`, size }, (error) =>
        error ? fail(error) : done(),
      );
      for (let j = 0; j < 8; j++) entry.write(zeros);
      entry.end(zeros);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

interface Case {
  name: string;
  chart: string;
  archive: () => Promise<Buffer>;
  message: RegExp;
}

const good = (name: string) => ({ header: { name: `${name}/Chart.yaml` }, body: chartYaml(name, '1.0.0') });

const cases: Case[] = [
  {
    name: 'a path with ..',
    chart: 'trav',
    archive: () => tgz([good('trav'), { header: { name: 'trav/../../etc/cron.d/evil' }, body: 'x' }]),
    message: /path that leaves the chart: trav\/\.\.\/\.\.\/etc\/cron\.d\/evil/,
  },
  {
    name: 'an absolute path',
    chart: 'abs',
    archive: () => tgz([good('abs'), { header: { name: '/etc/passwd' }, body: 'x' }]),
    message: /absolute path: \/etc\/passwd/,
  },
  {
    name: 'a symbolic link out of the chart',
    chart: 'sym',
    archive: () =>
      tgz([
        good('sym'),
        { header: { name: 'sym/templates/secret', type: 'symlink', linkname: '../../../etc/shadow' } },
      ]),
    message:
      /symbolic link that points outside the chart: sym\/templates\/secret -> \.\.\/\.\.\/\.\.\/etc\/shadow/,
  },
  {
    name: 'a hard link out of the chart',
    chart: 'hard',
    archive: () =>
      tgz([good('hard'), { header: { name: 'hard/passwd', type: 'link', linkname: '/etc/passwd' } }]),
    message: /hard link that points outside the chart/,
  },
  {
    name: 'a device file',
    chart: 'dev',
    archive: () =>
      tgz([
        good('dev'),
        { header: { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 } },
      ]),
    message: /device file: dev\/null/,
  },
  { name: 'a gzip bomb', chart: 'bomb', archive: gzipBomb, message: /larger than 100 MiB when decompressed/ },
  {
    name: 'a file over 5 MiB',
    chart: 'big',
    archive: () => tgz([good('big'), { header: { name: 'big/blob.bin' }, body: Buffer.alloc(5 * MiB + 1) }]),
    message: /file blob\.bin is larger than 5 MiB/,
  },
  {
    name: 'no Chart.yaml',
    chart: 'none',
    archive: () => tgz([{ header: { name: 'none/values.yaml' }, body: 'a: 1\n' }]),
    message: /no Chart\.yaml in its top folder none\//,
  },
  {
    name: 'a version that is not SemVer 2',
    chart: 'badver',
    archive: () =>
      tgz([{ header: { name: 'badver/Chart.yaml' }, body: 'apiVersion: v2\nname: badver\nversion: v1.2\n' }]),
    message: /version "v1\.2" is not a valid SemVer 2 version/,
  },
  {
    name: 'two top folders',
    chart: 'twotops',
    archive: () =>
      tgz([good('twotops'), { header: { name: 'other/Chart.yaml' }, body: chartYaml('other', '1.0.0') }]),
    message: /more than one top folder \(twotops, other\)/,
  },
  {
    name: 'Chart.yaml outside a folder',
    chart: 'flat',
    archive: () => tgz([{ header: { name: 'Chart.yaml' }, body: chartYaml('flat', '1.0.0') }]),
    message: /Chart\.yaml is not inside a chart folder/,
  },
  {
    name: 'bytes that are not gzip',
    chart: 'plain',
    archive: () => Promise.resolve(Buffer.from('just some text')),
    message: /not gzip-compressed/,
  },
];

describe('hostile chart archives', () => {
  let berth: TestBerth;
  const project = uniqueProject('hostile');
  const archives = new Map<string, Buffer>();

  before(async () => {
    berth = await startTestBerth();
    for (const c of cases) archives.set(c.name, await c.archive());
  });
  after(() => berth.dispose());

  it('each is refused by the inspector with a message of its own', async () => {
    const messages = new Set<string>();
    for (const c of cases) {
      await assert.rejects(inspectChartArchive(Readable.from([archives.get(c.name)!])), (error: unknown) => {
        assert.ok(error instanceof ChartError, `${c.name}: ${String(error)}`);
        assert.match(error.message, c.message, c.name);
        messages.add(error.message);
        return true;
      });
    }
    assert.equal(messages.size, cases.length, `distinct messages: ${[...messages].join(' | ')}`);
  });

  it('the gzip bomb stays small compressed (the limit is on what it inflates to)', () => {
    assert.ok(archives.get('a gzip bomb')!.length < 2 * MiB);
  });

  for (const c of cases) {
    it(`refuses ${c.name} pushed over OCI with MANIFEST_INVALID and stores no manifest or tag`, async () => {
      const client = clientOf(berth);
      const repository = `${project}/${c.chart}`;
      const archive = archives.get(c.name)!;
      const config = Buffer.from(JSON.stringify({ name: c.chart, version: '1.0.0', apiVersion: 'v2' }));
      const chartDigest = await client.pushBlob(repository, archive);
      const configDigest = await client.pushBlob(repository, config);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          config: {
            mediaType: 'application/vnd.cncf.helm.config.v1+json',
            digest: configDigest,
            size: config.length,
          },
          layers: [
            {
              mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
              digest: chartDigest,
              size: archive.length,
            },
          ],
        }),
      );
      const response = await fetch(`${berth.base}/v2/${repository}/manifests/1.0.0`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
        body: new Uint8Array(manifest),
      });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]?.code, 'MANIFEST_INVALID');
      assert.match(body.errors[0]?.message ?? '', c.message);
      assert.deepEqual(await client.tags(repository), []);
      assert.equal((await berth.metadata.manifests.list(repository, { offset: 0, limit: 10 })).total, 0);
      assert.equal(await berth.metadata.tags.resolve(repository, '1.0.0'), undefined);
    });

    it(`refuses ${c.name} uploaded through the ChartMuseum API and stores nothing`, async () => {
      const uploadProject = `${project}up`;
      const response = await uploadChart(berth, uploadProject, archives.get(c.name)!);
      assert.equal(response.status, 400);
      const body = (await response.json()) as { error: string };
      assert.match(body.error, c.message);
      assert.equal(await berth.metadata.repositories.exists(`${uploadProject}/${c.chart}`), false);
    });
  }
});
