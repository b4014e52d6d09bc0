import type { Command } from 'commander';
import {
  api,
  CliError,
  connectionOf,
  idFromLocation,
  withConnection,
  type ConnectionFlags,
} from './api-client.js';
import { printResult } from './output.js';

interface GcRunJson {
  id: number;
  job_status: string;
  result?: { deletedBlobs?: number; deletedManifests?: number; unlinkedBlobs?: number; freedBytes?: number };
}

/** `berth gc [--dry-run] [--delete-untagged]`: runs garbage collection through the API and waits for it. */
export function registerGcCommand(program: Command): void {
  withConnection(
    program
      .command('gc')
      .description('run garbage collection now and wait for it (system admins)')
      .option('--dry-run', 'report what would be deleted, delete nothing')
      .option('--delete-untagged', 'first delete manifests no tag, index or surviving subject holds')
      .option('--workers <n>', 'blob deletions in flight at once (1-10)', '1'),
  ).action(
    async (flags: ConnectionFlags & { dryRun?: boolean; deleteUntagged?: boolean; workers: string }) => {
      const connection = connectionOf(flags);
      const workers = Number(flags.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 10)
        throw new CliError('--workers must be 1 to 10');
      const reply = await api(connection, 'POST', '/system/gc/schedule', {
        schedule: { type: 'Manual' },
        parameters: {
          dry_run: flags.dryRun === true,
          delete_untagged: flags.deleteUntagged === true,
          workers,
        },
      });
      const id = idFromLocation(reply);
      if (id === undefined) throw new CliError('the server did not say which run it started');
      let run: GcRunJson;
      for (;;) {
        run = (await api(connection, 'GET', `/system/gc/${id}`)).body as GcRunJson;
        if (run.job_status !== 'Running' && run.job_status !== 'Pending') break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      if (run.job_status !== 'Success') throw new CliError(`gc run ${id} ended ${run.job_status}`);
      const r = run.result ?? {};
      const verb = flags.dryRun === true ? 'would free' : 'freed';
      printResult(
        connection,
        run,
        `gc run ${id}: ${verb} ${r.freedBytes ?? 0} bytes; ${r.deletedBlobs ?? 0} blobs, ` +
          `${r.deletedManifests ?? 0} manifests, ${r.unlinkedBlobs ?? 0} unreferenced blob links`,
      );
    },
  );
}
