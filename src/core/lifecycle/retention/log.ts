import type { RetentionDecision } from './evaluator.js';

/** Outcome per digest beyond the decision: a deletion that failed. */
export type Failures = Map<string, string>;

const time = (at: Date | undefined) => (at === undefined ? '-' : at.toISOString());

/**
 * A task's log: one line per artifact with its digest, tags, push and pull times and what retention did
 * (RETAIN, DEL, IMMUTABLE, or ERROR when the deletion failed), like Harbor's retention table.
 */
export function formatTaskLog(
  repository: string,
  dryRun: boolean,
  at: Date,
  decisions: readonly RetentionDecision[],
  failures: Failures,
): string {
  const rows = decisions.map((d) => [
    d.candidate.digest,
    d.candidate.tags.length === 0 ? '<none>' : d.candidate.tags.join(','),
    time(d.candidate.pushedAt),
    time(d.candidate.pulledAt),
    failures.has(d.candidate.digest) ? 'ERROR' : d.action,
  ]);
  const header = ['Digest', 'Tags', 'PushedTime', 'PulledTime', 'Retention'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [
    `Retention of ${repository}${dryRun ? ' (dry run: nothing was deleted)' : ''} at ${at.toISOString()}`,
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ];
  for (const [digest, message] of failures)
    out.push(`Retention error for ${repository}@${digest}: ${message}`);
  return `${out.join('\n')}\n`;
}
