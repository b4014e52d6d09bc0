import type { BlobContent, BlobData } from '../blob-data.js';
import { imageConfig, imageManifest } from '../manifest-data.js';
import type { Profile } from '../options.js';
import type { RegistryClient } from '../registry-client.js';
import type { Scenario, ScenarioGroup } from '../scenario.js';
import { formatSize } from '../stats.js';

/**
 * Pushes one image the way skopeo (containers/image) does: HEAD each layer, upload the missing ones
 * (POST, one streamed PATCH, PUT ?digest=), then the config the same way, then PUT the manifest by tag.
 */
async function pushImage(
  client: RegistryClient,
  repository: string,
  tag: string,
  config: BlobContent,
  layers: BlobContent[],
): Promise<{ bytes: number; requests: number }> {
  let bytes = 0;
  let requests = 0;
  for (const blob of [...layers, config]) {
    requests++;
    if (await client.blobExists(repository, blob.digest)) continue;
    requests += await client.pushStreamed(repository, blob);
    bytes += blob.size;
  }
  const manifest = imageManifest(config, layers);
  await client.putManifest(repository, tag, manifest);
  return { bytes: bytes + manifest.length, requests: requests + 1 };
}

/** Images whose base layers the registry already holds, each adding new layers and a new config. */
export function imagePushGroup(profile: Profile, data: BlobData): ScenarioGroup {
  const repository = 'bench/image';
  const layersNote = `base ${profile.imageBaseLayers.map(formatSize).join(' + ')} present, new ${profile.imageNewLayers.map(formatSize).join(' + ')} + config`;
  return {
    name: 'image push (skopeo-like)',
    prepare: async (client) => {
      const base = profile.imageBaseLayers.map((size) => data.unique(size));
      for (const layer of base) await client.pushMonolithic(repository, layer);
      let serial = 0;
      return profile.imageClients.map((clients): Scenario => ({
        name: `image push x${clients}`,
        metric: 'ops/s',
        unitNote: `op = one image: ${layersNote}`,
        concurrency: clients,
        bounds: profile.imageBounds,
        warmupOps: 1,
        op: (c) => {
          const id = ++serial;
          const layers = [...base, ...profile.imageNewLayers.map((size) => data.unique(size))];
          return pushImage(c, repository, `build-${id}`, imageConfig(`image-${id}`), layers);
        },
      }));
    },
  };
}
