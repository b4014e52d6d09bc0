import type { Connection } from './api-client.js';

/** Prints rows as aligned columns, or the raw objects as JSON for scripts. */
export type Cell = string | number | boolean | undefined;

export function printList<T>(
  connection: Connection,
  items: T[],
  columns: [string, (item: T) => Cell][],
): void {
  if (connection.output === 'json') {
    process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    return;
  }
  const rows = [
    columns.map(([title]) => title),
    ...items.map((item) => columns.map(([, get]) => String(get(item) ?? ''))),
  ];
  const widths = columns.map((_c, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows)
    process.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** Prints one result: JSON for scripts, else the human sentence. */
export function printResult(connection: Connection, json: unknown, text: string): void {
  process.stdout.write(connection.output === 'json' ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
}
