import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * A real Herald process (the built dist/src/main.js) for crash and multi-instance tests.
 * It runs in a folder of its own: whatever it writes beside itself (./data) stays there.
 */
export class ChildHerald {
  private child: ChildProcess | null = null;
  port = 0;
  output = '';

  private readonly cwd = mkdtempSync(join(tmpdir(), 'herald-child-'));

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async start(): Promise<this> {
    this.output = '';
    this.child = spawn(process.execPath, [resolve('dist/src/main.js')], {
      cwd: this.cwd,
      env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'error', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const listening = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString();
        const match = /listening on\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(this.output);
        if (match) {
          this.port = Number(match[1]);
          resolve();
        }
      };
      this.child!.stdout!.on('data', onData);
      this.child!.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
      this.child!.once('exit', (code) => reject(new Error(`Herald exited with ${code} before listening:\n${this.output}`)));
    });
    // generous: a busy machine (a CI run beside other jobs) can take many seconds to load the built service
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`Herald did not start within 60 s:\n${this.output}`)), 60_000).unref());
    try {
      await Promise.race([listening, timeout]);
    } catch (error) {
      // a child that never listened must not outlive the test
      await this.kill();
      throw error;
    }
    return this;
  }

  /** Waits (at most 10 s) until the process has printed text matching `pattern`. */
  async waitForOutput(pattern: RegExp): Promise<void> {
    for (const deadline = Date.now() + 10_000; !pattern.test(this.output); ) {
      if (Date.now() > deadline) throw new Error(`Herald did not print ${pattern}:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The process id of the running child. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Ended, with an exit code or (killed) a signal: no 'exit' event will come any more. */
  private get exited(): boolean {
    return this.child !== null && (this.child.exitCode !== null || this.child.signalCode !== null);
  }

  /** SIGKILL: no shutdown hook runs, nothing is flushed. */
  async kill(): Promise<void> {
    if (!this.child || this.exited) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<number | null> {
    if (!this.child || this.exited) return this.child?.exitCode ?? null;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    return code;
  }
}
