import type { Command } from 'commander';
import {
  api,
  CliError,
  connectionOf,
  idFromLocation,
  listAll,
  withConnection,
  type ConnectionFlags,
} from './api-client.js';
import { printList, printResult } from './output.js';

interface ProjectJson {
  project_id: number;
  name: string;
  owner_name?: string;
  repo_count: number;
  metadata: Record<string, string>;
  creation_time: string;
}

/** `berth project create|list|delete`. */
export function registerProjectCommands(program: Command): void {
  const project = program.command('project').description('manage projects (through the API)');

  withConnection(
    project
      .command('create <name>')
      .description('create a project; you become its Project Admin')
      .option('--public', 'anyone may pull from it')
      .option('--storage-limit <bytes>', 'storage quota in bytes (system admins; -1 unlimited)'),
  ).action(async (name: string, flags: ConnectionFlags & { public?: boolean; storageLimit?: string }) => {
    const connection = connectionOf(flags);
    const storageLimit = flags.storageLimit === undefined ? undefined : Number(flags.storageLimit);
    if (storageLimit !== undefined && !Number.isSafeInteger(storageLimit))
      throw new CliError('--storage-limit must be a whole number of bytes');
    const reply = await api(connection, 'POST', '/projects', {
      project_name: name,
      metadata: { public: String(flags.public === true) },
      ...(storageLimit !== undefined && { storage_limit: storageLimit }),
    });
    const id = idFromLocation(reply);
    printResult(
      connection,
      { project_id: id, name, public: flags.public === true },
      `created project ${name} (id ${id})`,
    );
  });

  withConnection(
    project
      .command('list')
      .description('list the projects you can see')
      .option('-q, --query <text>', 'name substring'),
  ).action(async (flags: ConnectionFlags & { query?: string }) => {
    const connection = connectionOf(flags);
    const filter = flags.query === undefined ? '' : `?name=${encodeURIComponent(flags.query)}`;
    const projects = await listAll<ProjectJson>(connection, `/projects${filter}`);
    printList(connection, projects, [
      ['ID', (p) => p.project_id],
      ['NAME', (p) => p.name],
      ['PUBLIC', (p) => p.metadata.public],
      ['REPOSITORIES', (p) => p.repo_count],
      ['OWNER', (p) => p.owner_name],
      ['CREATED', (p) => p.creation_time],
    ]);
  });

  withConnection(
    project.command('delete <name>').description('delete a project that holds no repositories'),
  ).action(async (name: string, flags: ConnectionFlags) => {
    const connection = connectionOf(flags);
    await api(connection, 'DELETE', `/projects/${encodeURIComponent(name)}`, undefined, {
      'X-Is-Resource-Name': 'true',
    });
    printResult(connection, { name, deleted: true }, `deleted project ${name}`);
  });
}
