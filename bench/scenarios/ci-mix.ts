import { bufferBlob, type BlobData } from '../blob-data.js';
import { imageConfig, imageManifest } from '../manifest-data.js';
import type { Profile } from '../options.js';
import type { Scenario, ScenarioGroup } from '../scenario.js';
import { formatSize } from '../stats.js';

const smallBlobBytes = 256 * 1024;
const smallBlobCount = 8;

/**
 * What a registry behind CI sees: out of every 10 operations, 7 manifest reads (HEAD and GET by tag
 * alternating), 2 small blob pulls (verified) and 1 push (a new small layer and a manifest that uses it).
 */
export function ciMixGroup(profile: Profile, data: BlobData): ScenarioGroup {
  const repository = 'bench/ci';
  return {
    name: 'CI mix',
    prepare: async (client) => {
      const config = imageConfig('ci');
      const layers = Array.from({ length: smallBlobCount }, () => data.unique(smallBlobBytes));
      await client.pushMonolithic(repository, config);
      for (const layer of layers) await client.pushMonolithic(repository, layer);
      const manifest = imageManifest(config, layers);
      await client.putManifest(repository, 'latest', manifest);
      const digest = bufferBlob(manifest).digest;
      const scenario: Scenario = {
        name: `CI mix x${profile.ciMixClients}`,
        metric: 'ops/s',
        unitNote: `70% manifest HEAD/GET, 20% ${formatSize(smallBlobBytes)} blob pulls, 10% pushes (blob + manifest)`,
        concurrency: profile.ciMixClients,
        bounds: profile.ciMixBounds,
        warmupOps: 100,
        op: async (c, i) => {
          const slot = i % 10;
          if (slot < 7) {
            if (slot % 2 === 0) {
              await c.headManifest(repository, 'latest', digest);
              return { bytes: 0, requests: 1 };
            }
            return { bytes: await c.getManifest(repository, 'latest', digest), requests: 1 };
          }
          if (slot < 9) {
            const layer = layers[i % smallBlobCount]!;
            return { bytes: await c.pullBlob(repository, layer.digest, layer.size), requests: 1 };
          }
          const layer = data.unique(smallBlobBytes);
          const requests = await c.pushMonolithic(repository, layer);
          const pushed = imageManifest(config, [layer]);
          await c.putManifest(repository, `ci-${i}`, pushed);
          return { bytes: layer.size + pushed.length, requests: requests + 1 };
        },
      };
      return [scenario];
    },
  };
}
