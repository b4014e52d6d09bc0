import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../../src/storage/fs-blob-store.js';
import { blobStoreContract } from './blob-store.contract.js';

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
