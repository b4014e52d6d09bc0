import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { FsBlobStore } from '../../src/storage/fs-blob-store.js';
import { blobStoreContract, sha256 } from './blob-store.contract.js';

// Twice: with uploads written through O_DIRECT where the filesystem allows it (the default), and through
// the page cache, the path taken on filesystems without O_DIRECT and for unaligned appends.
for (const directIo of [true, false]) {
  blobStoreContract(`filesystem (${directIo ? 'direct I/O' : 'buffered'})`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-fs-contract-'));
    const store = await new FsBlobStore(root, { directIo }).init();
    return {
      store,
      reopen: () => new FsBlobStore(root, { directIo }).init(),
      dispose: async () => {
        await store.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  });
}

// Filesystem-only: where blobs are published.
describe('FsBlobStore prefix folders', () => {
  it('creates the 256 SHA-256 prefix folders at init and recreates one removed by hand on publish', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-fs-prefix-'));
    try {
      const store = await new FsBlobStore(root).init();
      const prefixes = await readdir(join(root, 'blobs', 'sha256'));
      assert.equal(prefixes.length, 256);
      const content = Buffer.from('published into a folder that someone removed');
      const digest = sha256(content);
      const hex = digest.slice('sha256:'.length);
      await rm(join(root, 'blobs', 'sha256', hex.slice(0, 2)), { recursive: true });
      const id = await store.startUpload();
      await store.appendUpload(id, Readable.from([content]), 0);
      assert.deepEqual(await store.commitUpload(id, digest), { ok: true, size: content.length });
      assert.deepEqual(await readFile(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex)), content);
      // A second init over the same root finds the folders and changes nothing.
      await new FsBlobStore(root).init();
      assert.equal((await readdir(join(root, 'blobs', 'sha256'))).length, 256);
      await store.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
