/**
 * Cores for the pinned (g) rows: processes pinned with `taskset` (util-linux), and the CPU time they used,
 * read from /proc (Linux only, like taskset).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type pg from 'pg';

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on every Linux we run on). */
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Every core of the machine, as taskset writes a list ("0-1"). */
export const ALL_CPUS = `0-${cpus().length - 1}`;

/** Why the pinned rows cannot run here, or null when they can (2 cores or more, taskset installed). */
export function cannotPin(): string | null {
  if (process.platform !== 'linux') return `pinning needs Linux (this is ${process.platform})`;
  if (cpus().length < 2) return `pinning needs 2 cores (this machine has ${cpus().length})`;
  const probe = spawnSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `taskset (util-linux) is missing or refused: ${probe.error?.message ?? probe.stderr.trim()}`;
  return null;
}

/** Pins every thread of a process (and so what it starts later) to the cores in `list` ("1", "0-1"). */
export function pin(pid: number, list: string): void {
  const result = spawnSync('taskset', ['--all-tasks', '--cpu-list', '--pid', list, String(pid)], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`taskset could not pin process ${pid} to cpu ${list}: ${result.error?.message ?? result.stderr.trim()}`);
  }
}

interface Stat {
  parent: number;
  /** Seconds of CPU of the process itself (user + system). */
  own: number;
  /** Seconds of CPU of its children that ended and were waited for. */
  reaped: number;
}

function stat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // ended meanwhile
  }
  // the command name may hold spaces and parentheses: the fields start after its last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 of proc(5): ppid is 4, utime 14, stime 15, cutime 16, cstime 17
  return {
    parent: Number(fields[1]),
    own: (Number(fields[11]) + Number(fields[12])) / TICKS,
    reaped: (Number(fields[13]) + Number(fields[14])) / TICKS,
  };
}

/** The processes under `pid` (children, grandchildren...) and `pid` itself, from one reading of /proc. */
function tree(pid: number): Map<number, Stat> {
  const all = new Map<number, Stat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const found = stat(Number(entry));
    if (found) all.set(Number(entry), found);
  }
  const under = new Map<number, Stat>();
  const visit = (at: number) => {
    const found = all.get(at);
    if (!found) return;
    under.set(at, found);
    for (const [child, s] of all) if (s.parent === at) visit(child);
  };
  visit(pid);
  return under;
}

/** Seconds of CPU a process has used so far (0 once it has ended). */
export function cpuSeconds(pid: number): number {
  return stat(pid)?.own ?? 0;
}

/**
 * Seconds of CPU a process and all the processes under it have used so far, those that ended included (a parent
 * that waits for its children, as PostgreSQL's postmaster does for its backends, is credited with their time).
 */
export function treeCpuSeconds(pid: number): number {
  let sum = 0;
  // a child that ended is in its parent's reaped time, a live one in its own: nothing counted twice
  for (const s of tree(pid).values()) sum += s.own + s.reaped;
  return sum;
}

/**
 * Seconds a process's main thread (a Node.js process's event loop; a PostgreSQL backend, which has no other) has
 * run on a core, and has waited, runnable, for one (the scheduler's run queue), so far: /proc/<pid>/schedstat.
 * Whatever of the wall time is neither, the thread was blocked: waiting for I/O, a socket, a timer.
 */
export function scheduled(pid: number): { running: number; waiting: number } {
  try {
    const [running, waiting] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { running: running / 1e9, waiting: waiting / 1e9 };
  } catch {
    return { running: 0, waiting: 0 }; // ended meanwhile
  }
}

/** Seconds the live processes under `pid` (and it) have waited for a core so far (ended ones are not counted). */
export function treeWaiting(pid: number): number {
  let sum = 0;
  for (const at of tree(pid).keys()) sum += scheduled(at).waiting;
  return sum;
}

/** Pins a process and every process under it (PostgreSQL's postmaster: its backends, checkpointer, WAL writer...). */
export function pinTree(pid: number, list: string): void {
  for (const at of tree(pid).keys()) pin(at, list);
}

/**
 * The postmaster of a PostgreSQL this client is connected to (the parent of its backend), or null when the server
 * runs elsewhere (its backend is no process of this machine).
 */
export async function postmasterOf(client: pg.Client): Promise<number | null> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return stat(rows[0].pid)?.parent ?? null;
}
