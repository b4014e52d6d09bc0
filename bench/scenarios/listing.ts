import { bufferBlob, type BlobData } from '../blob-data.js';
import { seedDistributionRepositories, seedDistributionTags } from '../distribution-seed.js';
import { imageConfig, imageManifest } from '../manifest-data.js';
import type { Profile } from '../options.js';
import type { RegistryClient } from '../registry-client.js';
import { forEachConcurrent, type Scenario, type ScenarioGroup } from '../scenario.js';
import type { RunningServer } from '../servers.js';

/** Extra tags per manifest PUT when the registry supports `?tag=` (OCI 1.1); keeps the URL under 8 KiB. */
const tagsPerPut = 400;

function names(prefix: string, count: number): string[] {
  const width = String(count - 1).length;
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(width, '0')}`);
}

/** A full listing must see every seeded entry, however many pages it takes. */
async function walk(
  client: RegistryClient,
  path: string,
  key: 'tags' | 'repositories',
  expected: number,
): Promise<{ bytes: number; requests: number }> {
  const listing = await client.listAll(path, key);
  if (listing.items !== expected)
    throw new Error(`${path}: listed ${listing.items} entries, expected ${expected}`);
  return { bytes: 0, requests: listing.pages };
}

/**
 * Seeds tags on one manifest: through the API with OCI 1.1 `?tag=` (Berth: a few requests), or on disk
 * for Distribution 2.8, which ignores `?tag=` and would need one PUT per tag.
 */
async function seedTags(
  client: RegistryClient,
  server: RunningServer,
  repository: string,
  manifest: Buffer,
  tags: string[],
): Promise<void> {
  const [first, ...rest] = tags;
  if (server.name === 'distribution') {
    await client.putManifest(repository, first!, manifest);
    await seedDistributionTags(server, repository, bufferBlob(manifest).digest, rest);
    return;
  }
  for (let i = 0; i < rest.length; i += tagsPerPut) {
    const reply = await client.putManifest(
      repository,
      i === 0 ? first! : rest[i - 1]!,
      manifest,
      rest.slice(i, i + tagsPerPut),
    );
    if (reply.headers['oci-tag'] === undefined) throw new Error('the registry ignored ?tag= while seeding');
  }
}

/** A repository with `tagCount` tags, listed in pages of 100 following Link, and whole. */
export function tagListGroup(profile: Profile, data: BlobData): ScenarioGroup {
  const repository = 'bench/tags';
  const count = profile.tagCount;
  return {
    name: `tag list ${count} tags`,
    prepare: async (client, server) => {
      const config = imageConfig('tags');
      const layer = data.unique(1024);
      await client.pushMonolithic(repository, config);
      await client.pushMonolithic(repository, layer);
      await seedTags(client, server, repository, imageManifest(config, [layer]), names('v', count));
      await walk(client, `/v2/${repository}/tags/list`, 'tags', count);
      return [
        {
          name: `tag list ${count}, paged n=100 x1`,
          metric: 'ops/s',
          unitNote: 'op = every page, following Link',
          concurrency: 1,
          bounds: profile.pagedListingBounds,
          warmupOps: 1,
          op: (c) => walk(c, `/v2/${repository}/tags/list?n=100`, 'tags', count),
        },
        {
          name: `tag list ${count}, whole x${profile.wholeListingClients}`,
          metric: 'ops/s',
          unitNote: 'op = GET without n (and any Link pages)',
          concurrency: profile.wholeListingClients,
          bounds: profile.wholeListingBounds,
          warmupOps: profile.wholeListingClients,
          op: (c) => walk(c, `/v2/${repository}/tags/list`, 'tags', count),
        },
      ] satisfies Scenario[];
    },
  };
}

/** `?n=<count>`, or the largest page size the registry accepts (Distribution 2.8 refuses n > 1000). */
async function wholeCatalogPath(client: RegistryClient, count: number): Promise<string> {
  for (const n of [count, 1000, 100]) {
    const path = `/v2/_catalog?n=${n}`;
    try {
      await walk(client, path, 'repositories', count);
      return path;
    } catch (error) {
      if (!(error as Error).message.includes('PAGINATION_NUMBER_INVALID')) throw error;
    }
  }
  throw new Error('the registry refuses every catalog page size tried');
}

/** `repositoryCount` repositories (made by cross-repository mounts), listed in pages of 100 and whole. */
export function catalogGroup(profile: Profile, data: BlobData): ScenarioGroup {
  const count = profile.repositoryCount;
  return {
    name: `catalog ${count} repositories`,
    prepare: async (client, server) => {
      const [source, ...others] = names('catalog/r', count);
      const blob = data.unique(1024);
      await client.pushMonolithic(source!, blob);
      if (server.name === 'distribution') await seedDistributionRepositories(server, blob.digest, others);
      else {
        await forEachConcurrent(others, 16, async (repository) => {
          if (!(await client.mount(repository, blob.digest, source!)))
            throw new Error(`mount into ${repository} was refused`);
        });
      }
      const whole = await wholeCatalogPath(client, count);
      return [
        {
          name: `catalog ${count}, paged n=100 x1`,
          metric: 'ops/s',
          unitNote: 'op = every page, following Link',
          concurrency: 1,
          bounds: profile.pagedListingBounds,
          warmupOps: 0, // prepare's verification walk warmed both servers; a Distribution walk takes seconds
          op: (c) => walk(c, '/v2/_catalog?n=100', 'repositories', count),
        },
        {
          name: `catalog ${count}, whole x${profile.wholeListingClients}`,
          metric: 'ops/s',
          unitNote: `op = GET n=${count}, or the largest n the registry accepts, following Link`,
          concurrency: profile.wholeListingClients,
          bounds: profile.wholeListingBounds,
          warmupOps: 0,
          op: (c) => walk(c, whole, 'repositories', count),
        },
      ] satisfies Scenario[];
    },
  };
}
