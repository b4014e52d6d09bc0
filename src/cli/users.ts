import type { Command } from 'commander';
import { generateSecret } from '../core/iam/rules.js';
import {
  api,
  CliError,
  connectionOf,
  idFromLocation,
  listAll,
  withConnection,
  type Connection,
  type ConnectionFlags,
} from './api-client.js';
import { printList, printResult } from './output.js';

interface UserJson {
  user_id: number;
  username: string;
  email: string;
  sysadmin_flag: boolean;
  creation_time: string;
}

/** The id of a user: `/users/current` for oneself, else `/users/search` (open to any signed-in user). */
async function userIdOf(connection: Connection, username: string): Promise<number> {
  if (username === connection.username)
    return ((await api(connection, 'GET', '/users/current')).body as UserJson).user_id;
  const found = (
    await api(connection, 'GET', `/users/search?username=${encodeURIComponent(username)}&page_size=100`)
  ).body as { user_id: number; username: string }[];
  const user = found.find((u) => u.username === username);
  if (user === undefined) throw new CliError(`no user named ${username}`);
  return user.user_id;
}

/** `berth user create|list|delete|passwd`. */
export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage local users (through the API)');

  withConnection(
    user
      .command('create <username>')
      .description('create a user; a strong password is generated and shown when none is given')
      .requiredOption('--email <email>', 'e-mail address')
      .option('--realname <name>', 'real name (default: the username)')
      .option('--comment <text>', 'comment')
      .option('--user-password <password>', "the new user's password")
      .option('--admin', 'make the user a system admin'),
  ).action(
    async (
      username: string,
      flags: ConnectionFlags & {
        email: string;
        realname?: string;
        comment?: string;
        userPassword?: string;
        admin?: boolean;
      },
    ) => {
      const connection = connectionOf(flags);
      const password = flags.userPassword ?? generateSecret(20);
      const reply = await api(connection, 'POST', '/users', {
        username,
        email: flags.email,
        realname: flags.realname ?? username,
        comment: flags.comment ?? '',
        password,
      });
      const id = idFromLocation(reply);
      if (flags.admin === true && id !== undefined)
        await api(connection, 'PUT', `/users/${id}/sysadmin`, { sysadmin_flag: true });
      const generated = flags.userPassword === undefined;
      printResult(
        connection,
        { user_id: id, username, sysadmin_flag: flags.admin === true, ...(generated && { password }) },
        `created user ${username} (id ${id})${generated ? `\npassword: ${password}` : ''}`,
      );
    },
  );

  withConnection(
    user
      .command('list')
      .description('list users (system admins)')
      .option('-q, --query <text>', 'username substring'),
  ).action(async (flags: ConnectionFlags & { query?: string }) => {
    const connection = connectionOf(flags);
    const filter = flags.query === undefined ? '' : `?q=${encodeURIComponent(`username=~${flags.query}`)}`;
    const users = await listAll<UserJson>(connection, `/users${filter}`);
    printList(connection, users, [
      ['ID', (u) => u.user_id],
      ['USERNAME', (u) => u.username],
      ['EMAIL', (u) => u.email],
      ['ADMIN', (u) => (u.sysadmin_flag ? 'yes' : 'no')],
      ['CREATED', (u) => u.creation_time],
    ]);
  });

  withConnection(user.command('delete <username>').description('delete a user (system admins)')).action(
    async (username: string, flags: ConnectionFlags) => {
      const connection = connectionOf(flags);
      const id = await userIdOf(connection, username);
      await api(connection, 'DELETE', `/users/${id}`);
      printResult(connection, { user_id: id, username, deleted: true }, `deleted user ${username}`);
    },
  );

  withConnection(
    user
      .command('passwd <username>')
      .description('change a password (your own needs the old one: --old-password, else --password is used)')
      .option('--new-password <password>', 'the new password (generated and shown when absent)')
      .option('--old-password <password>', 'the current password, when changing your own'),
  ).action(
    async (username: string, flags: ConnectionFlags & { newPassword?: string; oldPassword?: string }) => {
      const connection = connectionOf(flags);
      const id = await userIdOf(connection, username);
      const newPassword = flags.newPassword ?? generateSecret(20);
      const self = username === connection.username;
      const oldPassword = flags.oldPassword ?? (self ? connection.password : undefined);
      await api(connection, 'PUT', `/users/${id}/password`, {
        new_password: newPassword,
        ...(oldPassword !== undefined && { old_password: oldPassword }),
      });
      const generated = flags.newPassword === undefined;
      printResult(
        connection,
        { user_id: id, username, ...(generated && { password: newPassword }) },
        `changed the password of ${username}${generated ? `\npassword: ${newPassword}` : ''}`,
      );
    },
  );
}
