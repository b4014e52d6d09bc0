import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../../src/storage/fs-blob-store.js';
import { blobStoreContract } from './blob-store.contract.js';

blobStoreContract('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-fs-contract-'));
  const store = await new FsBlobStore(root).init();
  return {
    store,
    reopen: () => new FsBlobStore(root).init(),
    dispose: async () => {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});
