import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, type BerthConfig } from '../../src/server/config.js';
import { startBerth, type Berth, type BerthOptions } from '../../src/server/berth.js';
import { createLogger } from '../../src/server/logger.js';

export interface TestBerth extends Berth {
  dataDir: string;
  /** Base URL on 127.0.0.1 (what clients should use). */
  base: string;
  /** Stops the server and removes its data folder. */
  dispose(): Promise<void>;
}

/** Starts Berth on a random loopback port with a fresh temp data folder. */
export async function startTestBerth(
  overrides: Partial<Record<keyof BerthConfig, unknown>> = {},
  options: BerthOptions & { dataDir?: string } = {},
): Promise<TestBerth> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'berth-test-')));
  // Authentication is off unless the caller passes an `auth` section: most suites push anonymously.
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    data: dataDir,
    log: { level: 'silent' },
    auth: { enabled: false },
    ...overrides,
  });
  const berth = await startBerth(config, { logger: createLogger('silent'), ...options });
  return {
    ...berth,
    dataDir,
    base: `http://127.0.0.1:${berth.port}`,
    dispose: async () => {
      await berth.stop();
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
