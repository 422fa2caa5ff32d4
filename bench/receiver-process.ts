/** Starts bench/receiver.ts in a process of its own and tallies what reached it, by delivery. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface ReceiverProcess {
  port: number;
  /** Its process id (the pinned (g) rows pin it and read its CPU time). */
  pid: number;
  /** Requests that arrived, a delivery sent twice counted twice. */
  readonly requests: number;
  /** The distinct deliveries that arrived (their webhook-ids): what "all arrived" counts. */
  readonly deliveries: number;
  /** Forgets what arrived so far (the raw baseline reuses the receiver). */
  reset(): void;
  stop(): void;
}

export async function startReceiver(): Promise<ReceiverProcess> {
  const child: ChildProcess = fork(join(import.meta.dirname, 'receiver.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  let requests = 0;
  let ids = new Set<string>();
  child.on('message', (m: { webhookId?: string }) => {
    if (m.webhookId === undefined) return;
    requests++;
    ids.add(m.webhookId);
  });
  return {
    port,
    pid: child.pid!,
    get requests() {
      return requests;
    },
    get deliveries() {
      return ids.size;
    },
    reset() {
      requests = 0;
      ids = new Set();
    },
    stop() {
      child.kill('SIGTERM');
    },
  };
}
