import cliProgress from 'cli-progress';
import type { MigrationEvent } from './migrate.js';

export interface MigrationReporter {
  start(total: number): void;
  event(event: MigrationEvent): void;
  stop(): void;
}

/**
 * How `chart migrate` shows progress: a bar on a terminal (failures printed above it), one plain line
 * per version otherwise (logs, CI).
 */
export function migrationReporter(out: NodeJS.WriteStream): MigrationReporter {
  const line = (event: MigrationEvent): string =>
    `${event.outcome} ${event.name} ${event.version}${event.detail !== undefined ? `: ${event.detail}` : ''}\n`;
  if (out.isTTY !== true) {
    return { start: () => undefined, event: (event) => out.write(line(event)), stop: () => undefined };
  }
  const bars = new cliProgress.MultiBar(
    {
      stream: out,
      format: 'migrating |{bar}| {value}/{total} {chart}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  return {
    start: (total) => {
      bar = bars.create(total, 0, { chart: '' });
    },
    event: (event) => {
      if (event.outcome === 'failed') {
        bars.log(line(event));
        bars.update(); // renders now: the log is otherwise written only at the next timer tick
      }
      bar?.increment({ chart: `${event.name} ${event.version}` });
    },
    stop: () => bars.stop(),
  };
}
