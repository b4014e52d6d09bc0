// Runs Debian's skopeo, buildah and podman against a test Berth, each in a private sandbox.
//
// Everything the clients write goes under one temp folder per sandbox: image storage (vfs driver, its own
// graph root and run root), the blob-info cache, HOME and the XDG folders, podman's tmpdir and events log.
// The machine's /var/lib/containers, /run/containers and /etc/containers are never written and the system
// registries.conf and policy.json are not read.
import { execFile, type ExecFileException } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Client = 'skopeo' | 'buildah' | 'podman';

/** One client call should take seconds; a hung client fails its test instead of stalling the run. */
export const clientTimeoutMs = 120_000;

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  dir: string;
  /** `host:port` of the Berth under test, as client references spell it. */
  registry: string;
  run(client: Client, args: string[], options?: { timeoutMs?: number }): Promise<RunResult>;
  dispose(): Promise<void>;
}

/** Thrown when a client is not installed: the e2e tests fail (never skip) with this message. */
export class MissingClientError extends Error {
  constructor(client: Client) {
    super(
      `${client} is not installed (not found on PATH). The end-to-end tests need Debian's skopeo, buildah ` +
        `and podman: apt-get install skopeo buildah podman (as .ci/run does).`,
    );
    this.name = 'MissingClientError';
  }
}

/** Creates the sandbox for clients talking to the registry at `registry` (`127.0.0.1:PORT`). */
export async function createSandbox(registry: string): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-e2e-'));
  const path = (...parts: string[]) => join(dir, ...parts);
  for (const folder of ['home/.config/containers', 'xdg-data', 'xdg-config', 'xdg-runtime', 'tmp']) {
    await mkdir(path(folder), { recursive: true, mode: 0o700 });
  }
  const storage = { graphroot: path('storage/root'), runroot: path('storage/run') };
  await writeFile(
    path('storage.conf'),
    [
      '[storage]',
      'driver = "vfs"',
      `graphroot = "${storage.graphroot}"`,
      `runroot = "${storage.runroot}"`,
      `rootless_storage_path = "${storage.graphroot}"`,
      '',
    ].join('\n'),
  );
  // Berth serves plain HTTP: mark it insecure here as well as with --tls-verify=false on each command.
  await writeFile(
    path('registries.conf'),
    [
      'unqualified-search-registries = []',
      '',
      '[[registry]]',
      `location = "${registry}"`,
      'insecure = true',
      '',
    ].join('\n'),
  );
  // containers/image reads $HOME/.config/containers/policy.json before the system one.
  await writeFile(
    path('home/.config/containers/policy.json'),
    JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }),
  );
  await writeFile(
    path('containers.conf'),
    ['[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', ''].join('\n'),
  );

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    HOME: path('home'),
    XDG_DATA_HOME: path('xdg-data'),
    XDG_CONFIG_HOME: path('xdg-config'),
    XDG_RUNTIME_DIR: path('xdg-runtime'),
    TMPDIR: path('tmp'),
    CONTAINERS_STORAGE_CONF: path('storage.conf'),
    CONTAINERS_REGISTRIES_CONF: path('registries.conf'),
    CONTAINERS_CONF: path('containers.conf'),
    // As root, containers/image keeps its blob-info cache in /var/lib/containers/cache whatever the storage
    // root (buildah commit and push, skopeo copy), and no flag moves it. This internal variable (podman sets
    // it when it re-executes itself) makes the cache follow XDG_DATA_HOME instead. The clients still run as
    // root with no user namespace; only default paths change (storage too, hence rootless_storage_path
    // above and the explicit storage flags below).
    _CONTAINERS_ROOTLESS_UID: '4242',
  };
  const storageFlags = ['--root', storage.graphroot, '--runroot', storage.runroot, '--storage-driver', 'vfs'];
  const globalFlags: Record<Client, string[]> = {
    skopeo: ['--tmpdir', path('tmp')],
    buildah: storageFlags,
    podman: [
      ...storageFlags,
      '--tmpdir',
      path('podman-state'),
      '--cgroup-manager',
      'cgroupfs',
      '--events-backend',
      'file',
      '--network-config-dir',
      path('networks'),
    ],
  };

  return {
    dir,
    registry,
    run: (client, args, options = {}) =>
      runClient(client, [...globalFlags[client], ...args], env, options.timeoutMs),
    dispose: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}

function runClient(
  client: Client,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = clientTimeoutMs,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      client,
      args,
      { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ stdout, stderr });
        reject(describeFailure(client, args, error, stdout, stderr, timeoutMs));
      },
    );
  });
}

function describeFailure(
  client: Client,
  args: string[],
  error: ExecFileException,
  stdout: string,
  stderr: string,
  timeoutMs: number,
): Error {
  if (error.code === 'ENOENT') return new MissingClientError(client);
  const command = [client, ...args].join(' ');
  const why = error.killed
    ? `timed out after ${timeoutMs} ms`
    : `exited with ${String(error.code ?? error.signal)}`;
  return new Error(`${command}\n${why}\n--- stderr ---\n${stderr.trim()}\n--- stdout ---\n${stdout.trim()}`);
}

/** Fails with a clear message unless every client runs (`<client> --version`). */
export async function requireClients(clients: Client[]): Promise<void> {
  for (const client of clients) await runClient(client, ['--version'], { PATH: process.env.PATH }, 30_000);
}

export interface ScratchImage {
  /** Local name in the sandbox's storage, e.g. `localhost/e2e/tiny:1`. */
  name: string;
  /** Image ID (the config digest without its `sha256:`). */
  id: string;
}

export interface ScratchImageSpec {
  name: string;
  /** Files copied into the image, one layer per entry: path in the image -> content. */
  layers: Record<string, string>[];
  arch?: string;
  os?: string;
  cmd?: string[];
}

/**
 * Builds a tiny image from scratch with buildah: `from scratch`, `copy` each layer's files, `config`,
 * `commit`; a later layer starts `from` the image committed for the previous one.
 */
export async function buildScratchImage(sandbox: Sandbox, spec: ScratchImageSpec): Promise<ScratchImage> {
  const sources = join(sandbox.dir, 'sources', spec.name.replace(/[^a-zA-Z0-9]+/g, '_'));
  let base = 'scratch';
  let id = '';
  for (const [index, files] of spec.layers.entries()) {
    const layerDir = join(sources, String(index));
    await mkdir(layerDir, { recursive: true });
    const container = (await sandbox.run('buildah', ['from', '--quiet', '--pull=never', base])).stdout.trim();
    for (const [target, content] of Object.entries(files)) {
      const source = join(layerDir, target.replace(/\//g, '_'));
      await writeFile(source, content);
      await sandbox.run('buildah', ['copy', '--quiet', container, source, target]);
    }
    const config = [
      '--os',
      spec.os ?? 'linux',
      '--arch',
      spec.arch ?? 'amd64',
      '--label',
      `e2e.layer=${index}`,
    ];
    if (spec.cmd !== undefined) config.push('--cmd', JSON.stringify(spec.cmd));
    await sandbox.run('buildah', ['config', ...config, container]);
    const target = index === spec.layers.length - 1 ? spec.name : `${spec.name}-layer${index}`;
    id = (await sandbox.run('buildah', ['commit', '--quiet', '--rm', container, target])).stdout.trim();
    base = target;
  }
  return { name: spec.name, id };
}
