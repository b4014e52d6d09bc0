import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of utime and stime in /proc/<pid>/stat. */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of a process (all its threads), in seconds. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

function statusKiB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

export interface ProcessUsage {
  cpuSeconds: number;
  peakRssMiB: number;
}

/**
 * Watches a server process during one measured run: CPU from utime+stime deltas, peak RSS from VmRSS
 * samples and, where the kernel allows resetting it (clear_refs 5), from the exact high-water mark VmHWM.
 */
export class ProcessWatch {
  private cpuAtStart = 0;
  private peakKiB = 0;
  private hwmReset = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      this.hwmReset = true;
    } catch {
      this.hwmReset = false;
    }
    this.peakKiB = statusKiB(this.pid, 'VmRSS');
    this.cpuAtStart = processCpuSeconds(this.pid);
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): ProcessUsage {
    clearInterval(this.timer);
    this.sample();
    const cpuSeconds = processCpuSeconds(this.pid) - this.cpuAtStart;
    const hwm = this.hwmReset ? statusKiB(this.pid, 'VmHWM') : 0;
    return { cpuSeconds, peakRssMiB: Math.max(this.peakKiB, hwm) / 1024 };
  }

  private sample(): void {
    try {
      this.peakKiB = Math.max(this.peakKiB, statusKiB(this.pid, 'VmRSS'));
    } catch {
      // The process ended; the run reports the failure.
    }
  }
}

/** The load generator's own CPU (this process), to tell whether it, not the server, was the limit. */
export class SelfCpu {
  private startedAt = 0n;
  private usage: NodeJS.CpuUsage | undefined;

  start(): void {
    this.startedAt = process.hrtime.bigint();
    this.usage = process.cpuUsage();
  }

  /** CPU seconds used and the average number of cores busy. */
  stop(): { cpuSeconds: number; cores: number } {
    const used = process.cpuUsage(this.usage);
    const wall = Number(process.hrtime.bigint() - this.startedAt) / 1e9;
    const cpuSeconds = (used.user + used.system) / 1e6;
    return { cpuSeconds, cores: wall > 0 ? cpuSeconds / wall : 0 };
  }
}

/** ProcessWatch over several processes (the nodes of a cluster): CPU summed, peak RSS of the largest one. */
export class ProcessesWatch {
  private readonly watches: ProcessWatch[];

  constructor(pids: readonly number[]) {
    this.watches = pids.map((pid) => new ProcessWatch(pid));
  }

  start(): void {
    for (const watch of this.watches) watch.start();
  }

  stop(): ProcessUsage {
    const usages = this.watches.map((watch) => watch.stop());
    return {
      cpuSeconds: usages.reduce((sum, usage) => sum + usage.cpuSeconds, 0),
      peakRssMiB: Math.max(0, ...usages.map((usage) => usage.peakRssMiB)),
    };
  }
}

/** CPU seconds of each process that still exists (for processes that come and go, such as database backends). */
export function cpuByPid(pids: Iterable<number>): Map<number, number> {
  const result = new Map<number, number>();
  for (const pid of pids) {
    try {
      result.set(pid, processCpuSeconds(pid));
    } catch {
      // gone
    }
  }
  return result;
}

/** CPU used between two `cpuByPid` snapshots; a process born in between counts from zero. */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}
