import { randomInt } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, MetadataStore, PasswordHasher } from '../core/ports.js';
import type { BerthConfig } from './config.js';

export interface BootstrapOptions {
  /** Where the generated admin password is shown once (default: standard output, not the log). */
  print?: (text: string) => void;
}

const adminName = 'admin';
const libraryName = 'library';

/**
 * First start of an installation: creates the system administrator `admin` and the public project
 * `library`, each only if absent. The password is `auth.adminPassword` (BERTH_ADMIN_PASSWORD) or, when
 * that is not set, a random one, printed once and written to `<data>/admin-password` (mode 0600). There is
 * no default password. Nodes that start together race on the unique names; the losers do nothing.
 */
export async function bootstrap(
  config: BerthConfig,
  metadata: MetadataStore,
  hasher: PasswordHasher,
  clock: Clock,
  logger: Logger,
  options: BootstrapOptions = {},
): Promise<void> {
  let admin = await metadata.users.getByName(adminName);
  if (admin === undefined) {
    const generated = config.auth.adminPassword === undefined;
    const password = config.auth.adminPassword ?? randomPassword();
    const created = await metadata.users.create(
      {
        username: adminName,
        email: '',
        realname: 'System Administrator',
        comment: 'created at first start',
        sysadmin: true,
        passwordHash: await hasher.hash(password),
      },
      clock.now(),
    );
    if (created.ok) {
      admin = created.value;
      logger.info({ user: adminName, randomPassword: generated }, 'created the system administrator');
      if (generated)
        await announce(config, password, logger, options.print ?? ((text) => process.stdout.write(text)));
    } else {
      admin = await metadata.users.getByName(adminName); // another node created it
    }
  }
  if (admin === undefined) return; // created and deleted again meanwhile: nothing to own the project
  if ((await metadata.projects.getByName(libraryName)) === undefined) {
    const created = await metadata.projects.create(
      { name: libraryName, ownerId: admin.id, public: true, metadata: { public: 'true' }, storageLimit: -1 },
      clock.now(),
    );
    if (created.ok) logger.info({ project: libraryName }, 'created the public project');
  }
}

async function announce(
  config: BerthConfig,
  password: string,
  logger: Logger,
  print: (text: string) => void,
): Promise<void> {
  const file = join(resolve(config.data), 'admin-password');
  let saved = true;
  try {
    await mkdir(resolve(config.data), { recursive: true, mode: 0o700 });
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    await chmod(file, 0o600); // an existing file keeps its mode on write
  } catch (error) {
    saved = false;
    logger.warn({ err: error, file }, 'cannot save the generated admin password');
  }
  print(
    `Berth created the user "${adminName}" with the password: ${password}\n` +
      (saved ? `It is also in ${file} (readable by this user only). ` : '') +
      'Change it after the first login; it is not shown again.\n',
  );
}

/** 24 characters from a 62-letter alphabet (~143 bits), with an upper-case letter, a lower-case one and a digit. */
function randomPassword(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (;;) {
    let password = '';
    for (let i = 0; i < 24; i++) password += alphabet[randomInt(alphabet.length)];
    if (/[a-z]/.test(password) && /[A-Z]/.test(password) && /[0-9]/.test(password)) return password;
  }
}
