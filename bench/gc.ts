// GC over a large store: 100,000 blobs and 20,000 manifests seeded straight into SQLite and small files,
// then timed with its peak memory; then push throughput with and without GC running. Not a test.
// Usage: node dist/bench/gc.js [blobs] [manifests]
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectGarbage } from '../src/core/lifecycle/gc.js';
import { systemClock } from '../src/core/ports.js';
import { SqliteMetadataStore } from '../src/metadata/sqlite/store.js';
import { startBerth } from '../src/server/berth.js';
import { validateConfig } from '../src/server/config.js';
import { createLogger } from '../src/server/logger.js';
import { FsBlobStore } from '../src/storage/fs-blob-store.js';

const totalBlobs = Number(process.argv[2] ?? 100_000);
const totalManifests = Number(process.argv[3] ?? 20_000);
const hex = (n: number) => createHash('sha256').update(`blob-${n}`).digest('hex');

async function seed(data: string): Promise<{ garbage: number }> {
  const dbPath = join(data, 'metadata', 'berth.db');
  new SqliteMetadataStore(dbPath).close(); // creates the schema
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const old = Date.now() - 24 * 3_600_000;
  const layersPerManifest = 4;
  const layerBlobs = totalBlobs - totalManifests;
  const orphans = Math.floor(layerBlobs * 0.05);
  const repos = 1000;
  db.transaction(() => {
    const repo = db.prepare('INSERT INTO repositories (id, name, created_at) VALUES (?, ?, ?)');
    for (let r = 1; r <= repos; r++) repo.run(r, `bench${r % 20}/repo${r}`, old);
    const link = db.prepare(
      'INSERT OR IGNORE INTO blob_links (repository_id, digest, size, created_at) VALUES (?, ?, 64, ?)',
    );
    const manifest = db.prepare(
      "INSERT INTO manifests (repository_id, digest, media_type, size, created_at) VALUES (?, ?, 'application/vnd.oci.image.manifest.v1+json', 64, ?)",
    );
    const ref = db.prepare(
      "INSERT OR IGNORE INTO manifest_references (repository_id, manifest_digest, child_digest, kind) VALUES (?, ?, ?, 'blob')",
    );
    const tag = db.prepare(
      'INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, ?, ?, ?)',
    );
    for (let m = 0; m < totalManifests; m++) {
      const r = (m % repos) + 1;
      const digest = `sha256:${hex(layerBlobs + m)}`;
      manifest.run(r, digest, old);
      link.run(r, digest, old);
      if (m % 10 !== 0) tag.run(r, `t${m}`, digest, old); // 10% untagged
      for (let l = 0; l < layersPerManifest; l++) {
        const layer = `sha256:${hex((m * 3 + l * 7919) % (layerBlobs - orphans))}`;
        ref.run(r, digest, layer);
        link.run(r, layer, old);
      }
    }
  })();
  db.close();
  const bytes = Buffer.alloc(64, 7);
  for (let p = 0; p < 256; p++)
    await mkdir(join(data, 'storage', 'blobs', 'sha256', p.toString(16).padStart(2, '0')), {
      recursive: true,
    });
  for (let n = 0; n < totalBlobs; n++) {
    const h = hex(n);
    await writeFile(join(data, 'storage', 'blobs', 'sha256', h.slice(0, 2), h), bytes);
  }
  return { garbage: orphans };
}

async function pushLoad(base: string, clients: number, images: number): Promise<number> {
  const started = Date.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < images; i++) {
        const repo = `bench0/push${c}`;
        const layer = Buffer.from(`layer ${c} ${i} ${Math.random()}`.repeat(200));
        const digest = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
        const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
        await start.arrayBuffer();
        const url = new URL(start.headers.get('location')!, base);
        url.searchParams.set('digest', digest);
        await (await fetch(url, { method: 'PUT', body: new Uint8Array(layer) })).arrayBuffer();
        const manifest = JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: layer.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: layer.length }],
        });
        const put = await fetch(`${base}/v2/${repo}/manifests/t${i}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
          body: manifest,
        });
        await put.arrayBuffer();
        if (put.status !== 201) throw new Error(`push failed: ${put.status}`);
      }
    }),
  );
  return (clients * images) / ((Date.now() - started) / 1000);
}

async function main(): Promise<void> {
  const data = await mkdtemp(join(tmpdir(), 'berth-bench-gc-'));
  try {
    let t = Date.now();
    const { garbage } = await seed(data);
    console.log(
      `seeded ${totalBlobs} blobs, ${totalManifests} manifests in ${Date.now() - t} ms (${garbage} orphan blobs)`,
    );

    const metadata = new SqliteMetadataStore(join(data, 'metadata', 'berth.db'));
    const links = new Database(join(data, 'metadata', 'berth.db'), { readonly: true })
      .prepare('SELECT count(*) FROM blob_links')
      .pluck()
      .get() as number;
    t = performance.now();
    const db = new Database(join(data, 'metadata', 'berth.db'), { readonly: true });
    const computed = db
      .prepare(
        "SELECT sum(size) FROM (SELECT max(l.size) AS size FROM blob_links l JOIN repositories r ON r.id = l.repository_id WHERE r.name >= 'bench1/' AND r.name < 'bench10' GROUP BY l.digest)",
      )
      .pluck()
      .get();
    const queryMs = performance.now() - t;
    t = performance.now();
    db.prepare('SELECT sum(size) FROM (SELECT max(size) AS size FROM blob_links GROUP BY digest)')
      .pluck()
      .get();
    const allMs = performance.now() - t;
    console.log(`usage query over all ${links} links as one project (worst case): ${allMs.toFixed(1)} ms`);
    t = performance.now();
    for (let i = 0; i < 1000; i++) await metadata.quotas.usage('bench1');
    const tableUs = ((performance.now() - t) / 1000) * 1000;
    console.log(
      `usage of one project over ${links} links: computed query ${queryMs.toFixed(1)} ms (${String(computed)} bytes); table lookup ${tableUs.toFixed(1)} µs`,
    );
    db.close();

    const blobs = await new FsBlobStore(join(data, 'storage')).init();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    t = Date.now();
    const result = await collectGarbage(
      { blobs, metadata, clock: systemClock },
      { graceMs: 0, deleteUntagged: true, dryRun: false, workers: 4 },
      () => undefined,
    );
    clearInterval(sampler);
    console.log(
      `gc: ${Date.now() - t} ms; ${result.deletedManifests} manifests, ${result.unlinkedBlobs} links, ${result.deletedBlobs} blobs; ` +
        `rss before ${(rssBefore / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB (+${((peak - rssBefore) / 2 ** 20).toFixed(0)} MiB)`,
    );
    await metadata.close();

    const config = validateConfig({
      server: { host: '127.0.0.1', port: 0 },
      data,
      log: { level: 'silent' },
      auth: { enabled: false },
      lifecycle: { gcGraceSeconds: 0, schedulerTickSeconds: 0 },
    });
    const berth = await startBerth(config, { logger: createLogger('silent') });
    const base = `http://127.0.0.1:${berth.port}`;
    await pushLoad(base, 8, 10); // warm-up
    const quiet = await pushLoad(base, 8, 40);
    let running = true;
    let gcRuns = 0;
    const loop = (async () => {
      while (running) {
        const outcome = await berth.scheduler.trigger('gc', 'Manual', { delete_untagged: false });
        if (outcome.ok) await outcome.done;
        gcRuns += 1;
      }
    })();
    const busy = await pushLoad(base, 8, 40);
    running = false;
    await loop;
    console.log(
      `push throughput (8 clients): ${quiet.toFixed(0)} images/s without GC, ${busy.toFixed(0)} images/s with GC looping (${gcRuns} runs)`,
    );
    await berth.stop();
  } finally {
    await rm(data, { recursive: true, force: true });
  }
}

await main();
