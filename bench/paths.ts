import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// This module compiles to dist/bench/paths.js; every path is resolved from there, not from the cwd.
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const berthMain = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
export const staticServerMain = fileURLToPath(new URL('./static-server.js', import.meta.url));
export const resultsDir = join(repoRoot, 'bench', 'results');
export const distributionBin = process.env.DISTRIBUTION_BIN ?? 'docker-registry';
/** Berth's log level during the benchmark: per-request `info` lines would otherwise dominate. */
export const berthLogLevel = process.env.BENCH_BERTH_LOG_LEVEL ?? 'warn';
