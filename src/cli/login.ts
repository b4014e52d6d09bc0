import type { Command } from 'commander';
import { registryHostKey, storeCredentials } from './docker-config.js';
import { baseUrlFor, RegistryClient } from './registry-client.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * `berth login HOST`: checks the credentials against the registry (the token flow or Basic, whichever it
 * asks for) and stores them as `docker login` does, where Docker, Helm and Berth's own commands find them.
 */
export function registerLoginCommand(program: Command): void {
  program
    .command('login <host>')
    .description('log in to a registry and store the credentials in the Docker config')
    .requiredOption('-u, --username <name>', 'user or robot name')
    .option('-p, --password <password>', 'password (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--plain-http', 'use HTTP instead of HTTPS')
    .action(
      async (
        host: string,
        flags: { username: string; password?: string; passwordStdin?: boolean; plainHttp?: boolean },
      ) => {
        try {
          const password = flags.passwordStdin === true ? await readStdin() : flags.password;
          if (password === undefined || password === '')
            throw new Error('a password is required (--password-stdin)');
          const name = registryHostKey(host);
          const base = /^https?:\/\//i.test(host)
            ? new URL(host).origin
            : baseUrlFor(name, flags.plainHttp === true);
          const credentials = { username: flags.username, password };
          await new RegistryClient({ base, credentials }).checkLogin();
          await storeCredentials(name, credentials);
          process.stdout.write('Login Succeeded\n');
        } catch (error) {
          process.stderr.write(`berth: ${(error as Error).message}\n`);
          process.exitCode = 1;
        }
      },
    );
}
