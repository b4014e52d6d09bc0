import type { BlobData } from '../blob-data.js';
import type { Profile } from '../options.js';
import type { Scenario, ScenarioGroup } from '../scenario.js';
import { formatSize } from '../stats.js';

export type PushMode = 'monolithic' | 'chunked';

/** Pushes of new blobs of one size and mode, with each client count of the profile. */
export function blobPushGroup(profile: Profile, data: BlobData, size: number, mode: PushMode): ScenarioGroup {
  const name = `blob push ${mode} ${formatSize(size)}`;
  const repository = `bench/push-${mode}`;
  return {
    name,
    prepare: () =>
      Promise.resolve(
        (mode === 'monolithic' ? profile.blobClients : profile.chunkedClients).map((clients): Scenario => ({
          name: `${name} x${clients}`,
          metric: 'MB/s',
          unitNote:
            mode === 'monolithic'
              ? 'POST + PUT with the body'
              : `POST + PATCH per ${formatSize(profile.chunkBytes)} + PUT`,
          concurrency: clients,
          bounds: profile.blobBounds(size, clients, 'push'),
          warmupOps: size <= 8 * 1024 * 1024 ? clients : 0,
          op: async (client) => {
            const blob = data.unique(size);
            const requests =
              mode === 'monolithic'
                ? await client.pushMonolithic(repository, blob)
                : await client.pushChunked(repository, blob, profile.chunkBytes);
            return { bytes: size, requests };
          },
        })),
      ),
  };
}

/** Pulls of one stored blob, each verified against its SHA-256 by the client, with each client count. */
export function blobPullGroup(profile: Profile, data: BlobData, size: number): ScenarioGroup {
  const name = `blob pull ${formatSize(size)}`;
  const repository = 'bench/pull';
  return {
    name,
    prepare: async (client) => {
      const blob = data.unique(size);
      await client.pushMonolithic(repository, blob);
      return profile.blobClients.map((clients): Scenario => ({
        name: `${name} x${clients}`,
        metric: 'MB/s',
        unitNote: 'GET, client verifies sha256',
        concurrency: clients,
        bounds: profile.blobBounds(size, clients, 'pull'),
        warmupOps: size <= 8 * 1024 * 1024 ? clients : 1,
        op: async (c) => ({ bytes: await c.pullBlob(repository, blob.digest, blob.size), requests: 1 }),
      }));
    },
  };
}
