import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc times (USER_HZ); 100 on every Linux Node supports. */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime, in clock ticks. */
  readonly ticks: number;
}

/** Fields of /proc/<pid>/stat after the command name, which may itself hold spaces and parentheses. */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  const ppid = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ppid) && Number.isFinite(ticks) ? { pid, ppid, ticks } : undefined;
}

/** The pid and every descendant's pid (cluster workers of a primary, for instance). */
export function processTree(rootPid: number): number[] {
  const stats = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((stat): stat is ProcStat => stat !== undefined);
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i += 1) {
    for (const stat of stats) if (stat.ppid === tree[i]) tree.push(stat.pid);
  }
  return tree;
}

/** User + system CPU time, in microseconds, of the given processes so far (10 ms resolution). */
export function cpuMicros(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  return (ticks * 1e6) / TICKS_PER_SECOND;
}
