import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { probeDirectIo, type DirectIo } from '../../src/storage/direct-append.js';

/** `bytes` as a stream of `size`-byte pieces (the last one shorter). */
function pieces(bytes: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  return Readable.from(parts);
}

describe('direct-I/O appends', () => {
  let dir: string;
  let direct: DirectIo;
  let counter = 0;
  const fresh = async (content = Buffer.alloc(0)) => {
    const path = join(dir, `upload-${++counter}`);
    await writeFile(path, content);
    return path;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-direct-'));
    const probed = await probeDirectIo(dir);
    assert.ok(
      probed,
      `the filesystem of ${tmpdir()} must support O_DIRECT for these tests (Linux ext4, xfs)`,
    );
    direct = probed;
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('appends odd-sized chunks across many staging buffers, with a partial last block', async () => {
    const content = randomBytes(2 * 1024 * 1024 + 333_333);
    const path = await fresh();
    let seen = 0;
    const result = await direct.append(path, 0, pieces(content, 65_537), (chunk) => (seen += chunk.length));
    assert.deepEqual(result, { ok: true, bytes: content.length });
    assert.equal(seen, content.length);
    assert.deepEqual(await readFile(path), content);
  });

  it('continues an aligned file directly and leaves an unaligned one to the buffered path', async () => {
    const first = randomBytes(1024 * 1024);
    const second = randomBytes(700_001);
    const path = await fresh(first);
    assert.deepEqual(await direct.append(path, first.length, pieces(second, 100_000), () => undefined), {
      ok: true,
      bytes: second.length,
    });
    assert.deepEqual(await readFile(path), Buffer.concat([first, second]));
    const source = pieces(randomBytes(10), 10);
    const size = first.length + second.length;
    assert.deepEqual(await direct.append(path, size, source, () => undefined), { ok: false });
    assert.equal(source.readableEnded, false, 'nothing was consumed');
  });

  it('keeps a prefix of what arrived when the source fails midway', async () => {
    const sent = randomBytes(1536 * 1024 + 1000);
    const failing = new Readable({
      read() {
        this.push(sent);
        this.destroy(new Error('client went away'));
      },
    });
    const path = await fresh();
    await assert.rejects(
      direct.append(path, 0, failing, () => undefined),
      /client went away/,
    );
    const kept = await readFile(path);
    assert.ok(kept.length < sent.length, `kept ${kept.length} bytes`);
    assert.equal(kept.length % 4096, 0);
    assert.deepEqual(kept, sent.subarray(0, kept.length));
  });

  it('declines appends beyond its buffer pool instead of growing without bound', async () => {
    const gates: (() => void)[] = [];
    const blocked = () =>
      Readable.from(
        (async function* () {
          await new Promise<void>((resolve) => gates.push(resolve));
          yield Buffer.from('x');
        })(),
      );
    const paths = await Promise.all(Array.from({ length: 22 }, () => fresh()));
    const appends = paths.map((path) => direct.append(path, 0, blocked(), () => undefined));
    assert.deepEqual(await appends[21], { ok: false }, 'the 22nd concurrent append finds no buffers');
    for (let waited = 0; gates.length < 21 && waited < 500; waited++) await delay(10);
    assert.equal(gates.length, 21, 'every accepted append is waiting for its source');
    gates.forEach((open) => open());
    const results = await Promise.all(appends.slice(0, 21));
    assert.ok(results.every((r) => r.ok));
    for (const path of paths.slice(0, 21)) assert.equal((await readFile(path)).toString(), 'x');
    // The buffers came back: a new append is taken again.
    assert.deepEqual(await direct.append(await fresh(), 0, pieces(Buffer.from('y'), 1), () => undefined), {
      ok: true,
      bytes: 1,
    });
  });
});
