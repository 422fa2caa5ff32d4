import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { ALL_CPUS, cannotPin, cpuSeconds, pin, pinTree, scheduled, treeCpuSeconds } from '../../bench/cpus.js';

// bench/cpus.ts is what the pinned (g) rows trust to place processes and to count their CPU: on Linux with 2 cores
// or more (the bench's machine), with taskset installed
const why = cannotPin();
const linux = why === null ? describe : describe.skip;

/** Every process a test started, killed after it (a grandchild included: its parent's death would leave it running). */
const started: number[] = [];

/** A Node.js process running `script`; resolves with it once the script has sent its first message (its pid, say). */
function start<T>(script: string): Promise<{ child: ChildProcess; first: T }> {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  started.push(child.pid!);
  return new Promise((resolve, reject) => {
    child.once('message', (first: T) => resolve({ child, first }));
    child.once('exit', (code) => reject(new Error(`the test process exited with ${code} before its first message`)));
  });
}

/** The cores each thread of a process may run on, as /proc lists them. */
function threadCpus(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]);
}

/** Burns CPU on this thread until `seconds` of it are used. */
const BURN = (seconds: number) => `{ const start = process.cpuUsage(); while ((process.cpuUsage(start).user + process.cpuUsage(start).system) / 1e6 < ${seconds}); }`;

afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ended already
    }
  }
});

linux('bench/cpus.ts (Linux, 2 cores or more)', () => {
  it('pins every thread of a process, and frees it again', async () => {
    const { child } = await start<string>(`process.send('up'); setInterval(() => {}, 1000);`);
    pin(child.pid!, '0');
    expect(new Set(threadCpus(child.pid!))).toEqual(new Set(['0']));
    pin(child.pid!, ALL_CPUS);
    expect(new Set(threadCpus(child.pid!))).toEqual(new Set([ALL_CPUS]));
  });

  it('pins the processes under a process too, whatever their names hold (a name with parentheses and spaces)', async () => {
    const parent = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ['-e', "process.title = 'x) y ('; setInterval(() => {}, 1000)"], { stdio: 'ignore' });
      const named = () => require('node:fs').readFileSync('/proc/' + child.pid + '/stat', 'utf8').includes('x) y (');
      const wait = setInterval(() => { if (named()) { clearInterval(wait); process.send(child.pid); } }, 10);
      setInterval(() => {}, 1000);`;
    const { child, first: grandchild } = await start<number>(parent);
    started.push(grandchild);
    pinTree(child.pid!, '0');
    expect(threadCpus(grandchild)).toEqual(threadCpus(grandchild).map(() => '0'));
    pinTree(child.pid!, ALL_CPUS);
    expect(new Set(threadCpus(grandchild))).toEqual(new Set([ALL_CPUS]));
  });

  it('counts the CPU of the processes under a process, those that ended included', async () => {
    // a parent that runs a child burning 0.3 s of CPU, waits for its end, then reports
    const parent = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ['-e', ${JSON.stringify(BURN(0.3))}], { stdio: 'ignore' });
      child.once('exit', () => process.send('child ended'));
      setInterval(() => {}, 1000);`;
    const { child } = await start<string>(parent);
    const own = cpuSeconds(child.pid!);
    const all = treeCpuSeconds(child.pid!);
    // /proc counts in ticks of 10 ms
    expect(all - own).toBeGreaterThanOrEqual(0.28);
  });

  it("tells an event loop's time on a core apart from its time waiting for one", async () => {
    const { child } = await start<string>(`${BURN(0.2)}; process.send('burned'); setInterval(() => {}, 1000);`);
    const { running: ran } = scheduled(child.pid!);
    // the main thread's own CPU time, as its /proc/<pid>/task/<pid>/stat counts it (ticks of 10 ms): utime and stime
    const fields = readFileSync(`/proc/${child.pid}/task/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const mainThread = (Number(fields[11]) + Number(fields[12])) / 100;
    // it ran most of the 0.2 s the process burned (its other threads took a little of it), and what it ran is the
    // main thread's CPU time, not its wait for a core
    expect(ran).toBeGreaterThanOrEqual(0.15);
    expect(Math.abs(ran - mainThread)).toBeLessThanOrEqual(0.03);
  });
});
