#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, loadConfig } from '../server/config.js';
import { startBerth } from '../server/berth.js';
import { registerChartCommands } from './charts/commands.js';
import { registerLoginCommand } from './login.js';
import { CliError } from './api-client.js';
import { registerGcCommand } from './gc.js';
import { registerProjectCommands } from './projects.js';
import { registerRobotCommands } from './robots.js';
import { registerUserCommands } from './users.js';

const program = new Command('berth').description('Berth, an OCI artifact registry').showHelpAfterError();

program
  .command('serve')
  .description('start the registry')
  .option('-c, --config <file>', 'YAML configuration file')
  .addOption(new Option('-p, --port <port>', 'port to listen on (BERTH_PORT)'))
  .addOption(new Option('-d, --data <dir>', 'data folder for the embedded backends (BERTH_DATA)'))
  .action(async (flags: { config?: string; port?: string; data?: string }) => {
    const config = loadConfig({
      ...(flags.config !== undefined && { file: flags.config }),
      env: process.env,
      overrides: [
        [['server', 'port'], flags.port],
        [['data'], flags.data],
      ],
    });
    const berth = await startBerth(config);
    berth.logger.info({ url: berth.url, data: config.data }, 'berth is listening');
    process.stdout.write(`Berth is listening on ${berth.url} (data in ${config.data})\n`);
    const shutdown = (signal: string) => {
      berth.logger.info({ signal }, 'shutting down');
      berth.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          berth.logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });

const configCommand = program.command('config').description('configuration tools');
configCommand
  .command('check <file>')
  .description('validate a configuration file (with BERTH_* overrides) without starting')
  .action((file: string) => {
    loadConfig({ file, env: process.env });
    process.stdout.write(`${file}: configuration is valid\n`);
  });

registerUserCommands(program);
registerProjectCommands(program);
registerRobotCommands(program);

registerLoginCommand(program);
registerChartCommands(program);
registerGcCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CliError) {
    process.stderr.write(`berth: ${error.message}\n`);
    process.exit(1);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`berth: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`berth: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
