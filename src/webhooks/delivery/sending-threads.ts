import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WebhookHttpClientOptions } from '../http/http-client.js';
import type { FromThread, ToThread } from './attempt-thread.js';
import type { ChannelJob, ChannelSender, ChannelSent } from './channel-send.js';

/**
 * The built module of the sending thread. Run from the TypeScript sources (the test runner
 * loads them through its own transform, which a thread does not have), it is the build of the
 * same file: `npm test` builds before it runs.
 */
export function sendingThreadModule(here = import.meta.url): URL {
  if (here.endsWith('.js')) return new URL('./attempt-thread.js', here);
  const built = fileURLToPath(here).replace(/([/\\])src([/\\]webhooks[/\\]delivery[/\\])[^/\\]+\.ts$/, '$1dist$1src$2attempt-thread.js');
  if (!existsSync(built)) throw new Error(`the sending thread's module is not built (${built}): run npm run build`);
  return pathToFileURL(built);
}

interface Pending {
  resolve: (sent: ChannelSent) => void;
  cleanUp: () => void;
}

/** One thread: its jobs waiting to be posted (one message a turn) and those it has not answered. */
class SendingThread {
  readonly pending = new Map<number, Pending>();
  private outbox: { id: number; job: ChannelJob }[] = [];
  private readonly worker: Worker;
  private closing = false;
  /** It said it was ready: its module loaded and its HTTP client stands. */
  private ready = false;

  constructor(module: URL, options: WebhookHttpClientOptions, private readonly onStop: (thread: SendingThread, reason: string, started: boolean) => void) {
    this.worker = new Worker(module, { workerData: options, name: 'herald-sending' });
    // it keeps the process alive only while it has something to answer
    this.worker.unref();
    this.worker.on('message', (message: FromThread) => {
      if (!('results' in message)) return void (this.ready = true);
      for (const { id, sent } of message.results) this.settle(id, sent);
    });
    this.worker.on('error', (error) => this.stopped(`it failed: ${error.message}`));
    this.worker.on('exit', (code) => this.stopped(`it exited (code ${code})`));
  }

  send(id: number, job: ChannelJob, signal?: AbortSignal): Promise<ChannelSent> {
    return new Promise<ChannelSent>((resolve) => {
      const cancel = () => this.worker.postMessage({ cancel: id, reason: signal?.reason instanceof Error ? signal.reason.message : 'aborted' } satisfies ToThread);
      signal?.addEventListener('abort', cancel, { once: true });
      const idle = this.pending.size === 0;
      if (idle) this.worker.ref();
      this.pending.set(id, { resolve, cleanUp: () => signal?.removeEventListener('abort', cancel) });
      // an idle thread gets it at once (one webhook's deliveries go one after another: each waits for the last);
      // a busy one gets what comes in this turn of the loop as one message
      if (this.outbox.length === 0 && !idle) setImmediate(() => this.flush());
      this.outbox.push({ id, job });
      if (idle && this.outbox.length === 1) this.flush();
      if (signal?.aborted) cancel();
    });
  }

  private flush(): void {
    const jobs = this.outbox;
    this.outbox = [];
    if (jobs.length > 0 && !this.closing) this.worker.postMessage({ jobs } satisfies ToThread);
  }

  private settle(id: number, sent: ChannelSent): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    entry.cleanUp();
    entry.resolve(sent);
  }

  /** Whatever it had not answered may have gone: each is tried again (the same webhook-id), like a crash's. */
  private stopped(reason: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id, { kind: 'lost', reason: `the sending thread stopped: ${reason}` });
    if (!this.closing) this.onStop(this, reason, this.ready);
    this.closing = true;
  }

  async close(waitMs: number): Promise<void> {
    if (this.closing) return;
    this.flush();
    this.closing = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ close: true } satisfies ToThread);
    const timer = setTimeout(() => void this.worker.terminate(), waitMs);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Channel messages rendered, signed and sent by threads beside the service's own (issue 26):
 * each takes the next job while the service's thread claims, judges and records. A job goes to
 * the thread with the fewest unanswered; a thread that stops is replaced, and what it had not
 * answered is tried again. The credentials travel to the threads in this process's memory only.
 */
export class SendingThreads implements ChannelSender {
  private readonly threads: SendingThread[] = [];
  private nextId = 0;
  private closed = false;
  /** Threads replaced so far (each stop is logged by onProblem). */
  replaced = 0;

  constructor(
    count: number,
    private readonly http: WebhookHttpClientOptions,
    /** Sends when no thread could start (then every message goes from the service's thread). */
    private readonly fallback: ChannelSender,
    private readonly onProblem: (message: string) => void,
    private readonly module: URL = sendingThreadModule(),
  ) {
    if (!(count >= 1)) throw new Error(`SendingThreads: count must be at least 1 (got ${count})`);
    for (let i = 0; i < count; i++) this.threads.push(this.spawn());
  }

  /** Threads sending now (0: none could start, the service's thread sends). */
  get size(): number {
    return this.threads.length;
  }

  send(job: ChannelJob, signal?: AbortSignal): Promise<ChannelSent> {
    if (this.closed) return Promise.resolve({ kind: 'unsent', reason: 'the service is stopping' });
    if (this.threads.length === 0) return this.fallback.send(job, signal);
    const thread = this.threads.reduce((least, t) => (t.pending.size < least.pending.size ? t : least));
    return thread.send(this.nextId++, job, signal);
  }

  async close(waitMs = 5_000): Promise<void> {
    this.closed = true;
    await Promise.all([...this.threads.map((thread) => thread.close(waitMs)), this.fallback.close()]);
  }

  private spawn(): SendingThread {
    return new SendingThread(this.module, this.http, (thread, reason, started) => {
      if (this.closed) return;
      const at = this.threads.indexOf(thread);
      if (!started) {
        // one that cannot start would not start again: its place goes
        this.threads.splice(at, 1);
        this.onProblem(`a sending thread could not start (${reason}); ${this.threads.length === 0 ? 'channel messages are sent from the service’s thread' : `${this.threads.length} still send`}`);
        return;
      }
      this.onProblem(`a sending thread stopped (${reason}); a new one takes its place`);
      this.replaced++;
      this.threads[at] = this.spawn();
    });
  }
}
