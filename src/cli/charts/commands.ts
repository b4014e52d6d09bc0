import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { rfc3339Local } from '../../core/charts/oci.js';
import { migrateRepository } from './migrate.js';
import { clientFor, parseOciReference, pullChart, pushChart } from './oci-chart.js';
import { packageChartDir, packageChartToDir } from './package.js';
import { migrationReporter } from './progress.js';

/** Runs a command body, printing a failure as `berth: message` with exit code 1 (no stack for user errors). */
function run<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (error) {
      process.stderr.write(`berth: ${(error as Error).message}\n`);
      process.exitCode = 1;
    }
  };
}

/** `berth chart package|push|pull|migrate`. */
export function registerChartCommands(program: Command): void {
  const chart = program.command('chart').description('Helm charts: package, push, pull, migrate');

  chart
    .command('package <dir>')
    .description('package a chart folder into <name>-<version>.tgz, as helm package does')
    .option('-d, --destination <dir>', 'where to write the archive', '.')
    .action(
      run(async (dir: string, flags: { destination: string }) => {
        const { path } = await packageChartToDir(dir, flags.destination);
        process.stdout.write(`Successfully packaged chart and saved it to: ${path}\n`);
      }),
    );

  chart
    .command('push <chart> <remote>')
    .description('push a chart folder or .tgz to oci://HOST/PROJECT, as helm push does')
    .option('--plain-http', 'use HTTP instead of HTTPS')
    .action(
      run(async (source: string, remote: string, flags: { plainHttp?: boolean }) => {
        const location = parseOciReference(remote, flags.plainHttp);
        const client = await clientFor(location);
        let archive: Buffer;
        let created: string;
        let provenance: Buffer | undefined;
        if ((await stat(source)).isDirectory()) {
          archive = (await packageChartDir(source)).archive;
          created = rfc3339Local(new Date());
        } else {
          archive = await readFile(source);
          created = rfc3339Local((await stat(source)).mtime);
          provenance = await readFile(`${source}.prov`).catch(() => undefined);
        }
        const pushed = await pushChart(client, location.path, archive, {
          created,
          ...(provenance !== undefined && { provenance }),
        });
        process.stdout.write(
          `Pushed: ${location.host}/${pushed.repository}:${pushed.tag}\nDigest: ${pushed.digest}\n`,
        );
      }),
    );

  chart
    .command('pull <remote>')
    .description('pull oci://HOST/PROJECT/NAME into <name>-<version>.tgz')
    .option('--version <version>', 'a version, or a SemVer range (newest match); default: newest stable')
    .option('-d, --destination <dir>', 'where to write the archive', '.')
    .option('--prov', 'also write the provenance file, when the chart has one')
    .option('--plain-http', 'use HTTP instead of HTTPS')
    .action(
      run(
        async (
          remote: string,
          flags: { version?: string; destination: string; prov?: boolean; plainHttp?: boolean },
        ) => {
          const location = parseOciReference(remote, flags.plainHttp);
          const client = await clientFor(location);
          const pulled = await pullChart(client, location.path, flags.version, flags.prov === true);
          await mkdir(flags.destination, { recursive: true });
          const path = resolve(join(flags.destination, `${pulled.metadata.name}-${pulled.version}.tgz`));
          await writeFile(path, pulled.archive);
          if (pulled.provenance !== undefined) await writeFile(`${path}.prov`, pulled.provenance);
          process.stdout.write(
            `Pulled: ${location.host}/${location.path}:${pulled.version}\nDigest: ${pulled.chartDigest}\nSaved: ${path}\n`,
          );
        },
      ),
    );

  chart
    .command('migrate')
    .description('copy every chart of a classic Helm repository into OCI charts')
    .requiredOption('--from <url>', 'the classic repository URL (where index.yaml is)')
    .requiredOption('--to <remote>', 'oci://HOST/PROJECT')
    .option('--username <name>', 'user for the classic repository')
    .option('--password <password>', 'password for the classic repository')
    .option('--plain-http', 'use HTTP instead of HTTPS for the OCI registry')
    .action(
      run(
        async (flags: {
          from: string;
          to: string;
          username?: string;
          password?: string;
          plainHttp?: boolean;
        }) => {
          const location = parseOciReference(flags.to, flags.plainHttp);
          const client = await clientFor(location);
          const reporter = migrationReporter(process.stdout);
          const summary = await migrateRepository({
            from: flags.from,
            client,
            toPath: location.path,
            ...(flags.username !== undefined && {
              credentials: { username: flags.username, password: flags.password ?? '' },
            }),
            onStart: (total) => reporter.start(total),
            onEvent: (event) => reporter.event(event),
          }).finally(() => reporter.stop());
          process.stdout.write(
            `${summary.migrated} migrated, ${summary.skipped} skipped, ${summary.failed.length} failed (of ${summary.total})\n`,
          );
          for (const failed of summary.failed)
            process.stdout.write(`  failed ${failed.name} ${failed.version}: ${failed.detail ?? ''}\n`);
          if (summary.failed.length > 0) process.exitCode = 1;
        },
      ),
    );
}
