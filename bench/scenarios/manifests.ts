import { bufferBlob, type BlobData } from '../blob-data.js';
import { imageConfig, imageManifest } from '../manifest-data.js';
import type { Profile } from '../options.js';
import type { Scenario, ScenarioGroup } from '../scenario.js';

/** Manifest PUT (new manifests, new tags), then GET and HEAD of one manifest by tag. */
export function manifestGroup(profile: Profile, data: BlobData): ScenarioGroup {
  const repository = 'bench/manifests';
  return {
    name: 'manifests',
    prepare: async (client) => {
      const config = imageConfig('manifests');
      const layer = data.unique(256 * 1024);
      await client.pushMonolithic(repository, config);
      await client.pushMonolithic(repository, layer);
      const latest = imageManifest(config, [layer]);
      await client.putManifest(repository, 'latest', latest);
      const latestDigest = bufferBlob(latest).digest;
      let serial = 0;
      const puts = profile.manifestPutClients.map((clients): Scenario => ({
        name: `manifest PUT x${clients}`,
        metric: 'req/s',
        unitNote: 'new manifest, new tag',
        concurrency: clients,
        bounds: profile.requestBounds,
        warmupOps: 50,
        op: async (c) => {
          const id = ++serial;
          const manifest = imageManifest(config, [layer], { 'org.example.bench.serial': String(id) });
          await c.putManifest(repository, `put-${id}`, manifest);
          return { bytes: manifest.length, requests: 1 };
        },
      }));
      const reads = (['GET', 'HEAD'] as const).flatMap((method) =>
        profile.manifestReadClients.map((clients): Scenario => ({
          name: `manifest ${method} by tag x${clients}`,
          metric: 'req/s',
          unitNote: method === 'GET' ? 'client verifies the digest' : 'checks Docker-Content-Digest',
          concurrency: clients,
          bounds: profile.requestBounds,
          warmupOps: 200,
          op: async (c) => {
            if (method === 'HEAD') {
              await c.headManifest(repository, 'latest', latestDigest);
              return { bytes: 0, requests: 1 };
            }
            return { bytes: await c.getManifest(repository, 'latest', latestDigest), requests: 1 };
          },
        })),
      );
      return [...puts, ...reads];
    },
  };
}
