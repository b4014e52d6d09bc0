import type { Command } from 'commander';
import { api, CliError, connectionOf, listAll, withConnection, type ConnectionFlags } from './api-client.js';
import { printList, printResult } from './output.js';

interface RobotFlags extends ConnectionFlags {
  name: string;
  project?: string[];
  system?: boolean;
  push?: boolean;
  pull?: boolean;
  delete?: boolean;
  access?: string[];
  duration: string;
  description?: string;
}

interface RobotJson {
  id: number;
  name: string;
  level: string;
  disable: boolean;
  expires_at: number;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The `access` list from --push, --pull, --delete and --access resource:action. */
function accessOf(flags: RobotFlags): { resource: string; action: string }[] {
  const access: { resource: string; action: string }[] = [];
  if (flags.pull === true) access.push({ resource: 'repository', action: 'pull' });
  if (flags.push === true) access.push({ resource: 'repository', action: 'push' });
  if (flags.delete === true) access.push({ resource: 'repository', action: 'delete' });
  for (const item of flags.access ?? []) {
    const [resource, action] = item.split(':');
    if (resource === undefined || action === undefined || resource === '' || action === '') {
      throw new CliError(`--access takes resource:action, not ${item}`);
    }
    access.push({ resource, action });
  }
  if (access.length === 0) throw new CliError('give at least one of --pull, --push, --delete or --access');
  return access;
}

/** `berth robot create|list|delete`. */
export function registerRobotCommands(program: Command): void {
  const robot = program.command('robot').description('manage robot accounts (through the API)');

  withConnection(
    robot
      .command('create')
      .description('create a robot account; its secret is shown once')
      .requiredOption('--name <name>', 'robot name (robot$<project>+<name>, or robot$<name> with --system)')
      .option('--project <project>', 'the project (repeatable with --system; "*" for all)', collect)
      .option('--system', 'a system-level robot (system admins), may span projects')
      .option('--pull', 'may pull')
      .option('--push', 'may push')
      .option('--delete', 'may delete repositories and artifacts')
      .option('--access <resource:action>', 'any other permission (repeatable)', collect)
      .option('--duration <days>', 'days of validity, -1 for never', '30')
      .option('--description <text>', 'description'),
  ).action(async (flags: RobotFlags) => {
    const connection = connectionOf(flags);
    const duration = Number(flags.duration);
    if (!Number.isSafeInteger(duration)) throw new CliError('--duration must be a whole number of days');
    const projects = flags.project ?? (flags.system === true ? ['*'] : []);
    if (flags.system !== true && projects.length !== 1)
      throw new CliError('a project robot needs exactly one --project');
    const access = accessOf(flags);
    const reply = await api(connection, 'POST', '/robots', {
      name: flags.name,
      description: flags.description ?? '',
      level: flags.system === true ? 'system' : 'project',
      duration,
      permissions: projects.map((namespace) => ({ kind: 'project', namespace, access })),
    });
    const created = reply.body as { id: number; name: string; secret: string; expires_at: number };
    const expires = created.expires_at === -1 ? 'never' : new Date(created.expires_at * 1000).toISOString();
    printResult(
      connection,
      created,
      `created ${created.name} (id ${created.id}, expires ${expires})\nsecret: ${created.secret}\nThe secret is shown only now.`,
    );
  });

  withConnection(
    robot
      .command('list')
      .description('list robots: system ones, or those of --project')
      .option('--project <project>', 'project name'),
  ).action(async (flags: ConnectionFlags & { project?: string }) => {
    const connection = connectionOf(flags);
    const path =
      flags.project === undefined ? '/robots' : `/projects/${encodeURIComponent(flags.project)}/robots`;
    const robots = await listAll<RobotJson>(connection, path);
    printList(connection, robots, [
      ['ID', (r) => r.id],
      ['NAME', (r) => r.name],
      ['LEVEL', (r) => r.level],
      ['DISABLED', (r) => (r.disable ? 'yes' : 'no')],
      ['EXPIRES', (r) => (r.expires_at === -1 ? 'never' : new Date(r.expires_at * 1000).toISOString())],
    ]);
  });

  withConnection(robot.command('delete <id>').description('delete a robot account by id')).action(
    async (id: string, flags: ConnectionFlags) => {
      const connection = connectionOf(flags);
      if (!/^\d+$/.test(id)) throw new CliError('the robot id is a number (see berth robot list)');
      await api(connection, 'DELETE', `/robots/${id}`);
      printResult(connection, { id: Number(id), deleted: true }, `deleted robot ${id}`);
    },
  );
}
