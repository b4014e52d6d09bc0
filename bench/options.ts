import { MiB } from './stats.js';

/** How much work a scenario may do in one round against one server: whichever bound is hit first. */
export interface Bounds {
  maxOps: number;
  maxSeconds: number;
}

/** Sizes, counts and time caps of one benchmark run. */
export interface Profile {
  name: 'quick' | 'full';
  rounds: number;
  /** Blob sizes for the push and pull scenarios. */
  blobSizes: number[];
  /** Client counts for monolithic push and for pull. */
  blobClients: number[];
  /** Client counts for chunked push. */
  chunkedClients: number[];
  blobBounds(size: number, clients: number, kind: 'push' | 'pull'): Bounds;
  chunkBytes: number;
  manifestPutClients: number[];
  manifestReadClients: number[];
  requestBounds: Bounds;
  tagCount: number;
  repositoryCount: number;
  /** A full paged listing is one operation. */
  pagedListingBounds: Bounds;
  wholeListingBounds: Bounds;
  wholeListingClients: number;
  /** Layers already in the registry (the base image) and the new ones each image push adds. */
  imageBaseLayers: number[];
  imageNewLayers: number[];
  imageClients: number[];
  imageBounds: Bounds;
  ciMixClients: number;
  ciMixBounds: Bounds;
  opensslSeconds: number;
  staticPulls: number;
}

const full: Profile = {
  name: 'full',
  rounds: 3,
  blobSizes: [1 * MiB, 64 * MiB],
  blobClients: [1, 16],
  chunkedClients: [1, 16],
  blobBounds: (size, clients, kind) => {
    if (size >= 64 * MiB) return { maxOps: clients === 1 ? 8 : kind === 'push' ? 32 : 48, maxSeconds: 30 };
    return { maxOps: clients === 1 ? 300 : 1600, maxSeconds: 8 };
  },
  chunkBytes: 8 * MiB,
  manifestPutClients: [1, 16],
  manifestReadClients: [1, 32],
  requestBounds: { maxOps: 20_000, maxSeconds: 5 },
  tagCount: 10_000,
  repositoryCount: 10_000,
  pagedListingBounds: { maxOps: 20, maxSeconds: 10 },
  wholeListingBounds: { maxOps: 400, maxSeconds: 6 },
  wholeListingClients: 4,
  imageBaseLayers: [24 * MiB, 8 * MiB, 2 * MiB],
  imageNewLayers: [8 * MiB, 512 * 1024],
  imageClients: [1, 4],
  imageBounds: { maxOps: 24, maxSeconds: 10 },
  ciMixClients: 16,
  ciMixBounds: { maxOps: 20_000, maxSeconds: 8 },
  opensslSeconds: 3,
  staticPulls: 8,
};

const quick: Profile = {
  ...full,
  name: 'quick',
  blobSizes: [64 * MiB],
  chunkedClients: [1],
  blobBounds: (_size, clients) => ({ maxOps: clients === 1 ? 3 : 16, maxSeconds: 8 }),
  manifestPutClients: [16],
  requestBounds: { maxOps: 5_000, maxSeconds: 0.5 },
  pagedListingBounds: { maxOps: 1, maxSeconds: 1 },
  wholeListingBounds: { maxOps: 40, maxSeconds: 1 },
  wholeListingClients: 1,
  imageBaseLayers: [8 * MiB, 2 * MiB],
  imageNewLayers: [4 * MiB, 256 * 1024],
  imageClients: [4],
  imageBounds: { maxOps: 8, maxSeconds: 1.5 },
  ciMixBounds: { maxOps: 5_000, maxSeconds: 1 },
  opensslSeconds: 1,
  staticPulls: 4,
};

/** The two profiles, for other entry points (bench/scale-out.ts) that derive their own from them. */
export const profiles: Record<Profile['name'], Profile> = { full, quick };

export interface BenchOptions {
  profile: Profile;
  /** Only scenario groups whose name contains one of these substrings (all when empty). */
  only: string[];
  /** Measure the openssl and static file server ceilings (skip with --no-ceilings while developing). */
  ceilings: boolean;
}

const usage = `usage: node dist/bench/run.js [--quick] [--rounds N] [--only SUBSTRING]...
  --quick      a run that finishes in under 3 minutes (64 MiB blobs only, fewer clients and requests)
  --rounds N   rounds per scenario, each server once per round (default 3, at least 3 for reported results)
  --only S     run only the scenario groups whose name contains S (repeatable)
  --no-ceilings  skip the openssl and static file server ceilings`;

export function parseOptions(argv: string[]): BenchOptions {
  let profile = full;
  let rounds: number | undefined;
  const only: string[] = [];
  let ceilings = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') profile = quick;
    else if (arg === '--full') profile = full;
    else if (arg === '--rounds') rounds = Number(argv[++i]);
    else if (arg === '--only') only.push(argv[++i] ?? '');
    else if (arg === '--no-ceilings') ceilings = false;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument ${arg}\n${usage}\n`);
      process.exit(2);
    }
  }
  if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1)) {
    process.stderr.write(`--rounds needs a positive integer\n`);
    process.exit(2);
  }
  return { profile: { ...profile, rounds: rounds ?? profile.rounds }, only, ceilings };
}
