import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { forEachConcurrent } from './scenario.js';
import type { RunningServer } from './servers.js';

/**
 * Seeds CNCF Distribution 2.x's filesystem layout directly, for the listings only: thousands of PUTs or
 * mounts through its API take tens of seconds and seeding is not what is measured. The layout is the
 * storage driver's (registry/storage/paths.go); each listing scenario walks the result once before
 * measuring, so a layout that Distribution did not read would fail loudly.
 */
function repositoriesRoot(server: RunningServer): string {
  return join(server.dataDir, 'storage', 'docker', 'registry', 'v2', 'repositories');
}

function digestParts(digest: string): [string, string] {
  const [algorithm, hex] = digest.split(':');
  if (algorithm === undefined || hex === undefined) throw new Error(`bad digest ${digest}`);
  return [algorithm, hex];
}

async function writeLink(path: string, digest: string): Promise<void> {
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'link'), digest);
}

/** Points `tags` at a manifest already pushed (through the API) to `repository`. */
export async function seedDistributionTags(
  server: RunningServer,
  repository: string,
  manifestDigest: string,
  tags: string[],
): Promise<void> {
  const [algorithm, hex] = digestParts(manifestDigest);
  const tagsDir = join(repositoriesRoot(server), repository, '_manifests', 'tags');
  await forEachConcurrent(tags, 32, async (tag) => {
    await writeLink(join(tagsDir, tag, 'current'), manifestDigest);
    await writeLink(join(tagsDir, tag, 'index', algorithm, hex), manifestDigest);
  });
}

/** Links a blob already pushed (through the API) into each of `repositories`, which makes them exist. */
export async function seedDistributionRepositories(
  server: RunningServer,
  blobDigest: string,
  repositories: string[],
): Promise<void> {
  const [algorithm, hex] = digestParts(blobDigest);
  const root = repositoriesRoot(server);
  await forEachConcurrent(repositories, 32, async (repository) => {
    await writeLink(join(root, repository, '_layers', algorithm, hex), blobDigest);
  });
}
