import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** Where Docker (and Berth) keep registry logins: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir =
    env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== ''
      ? env.DOCKER_CONFIG
      : join(homedir(), '.docker');
  return join(dir, 'config.json');
}

/** `registry.example:5000` from `https://registry.example:5000/v2/`, as Docker matches `auths` keys. */
export function registryHostKey(value: string): string {
  return value
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

async function readConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  if (text.trim() === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${path} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/** The stored login for a registry host (`auths.<host>.auth`, base64 of `user:password`), if any. */
export async function loadCredentials(
  host: string,
  path = dockerConfigPath(),
): Promise<RegistryCredentials | undefined> {
  const config = await readConfig(path);
  const auths = config.auths;
  if (typeof auths !== 'object' || auths === null) return undefined;
  const wanted = registryHostKey(host);
  for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
    if (registryHostKey(key) !== wanted || typeof entry !== 'object' || entry === null) continue;
    const { auth, username, password } = entry as { auth?: unknown; username?: unknown; password?: unknown };
    if (typeof auth === 'string' && auth !== '') {
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (typeof username === 'string' && typeof password === 'string') return { username, password };
  }
  return undefined;
}

/**
 * Stores a login the way `docker login` does without a credential helper: `auths.<host>.auth` = base64
 * of `user:password`, keeping everything else in the file; written atomically with mode 0600.
 */
export async function storeCredentials(
  host: string,
  credentials: RegistryCredentials,
  path = dockerConfigPath(),
): Promise<void> {
  const config = await readConfig(path);
  const auths =
    typeof config.auths === 'object' && config.auths !== null
      ? (config.auths as Record<string, unknown>)
      : {};
  const key = registryHostKey(host);
  for (const existing of Object.keys(auths)) if (registryHostKey(existing) === key) delete auths[existing];
  auths[key] = {
    auth: Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64'),
  };
  config.auths = auths;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
