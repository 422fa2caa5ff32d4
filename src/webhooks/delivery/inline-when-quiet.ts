import type { ChannelJob, ChannelSender, ChannelSent } from './channel-send.js';

/**
 * Sends on the service's own thread while few channel messages are in flight, and hands the
 * rest to the sending threads (issue 26).
 *
 * One webhook's deliveries go one after another, each waiting for the last, so a lone send
 * pays the hop to a thread and back (a message each way, the thread waking) on the critical
 * path, and the main thread sits idle meanwhile: the render and sign it would free cost less
 * than the hop. Bench row (e) with 1 webhook, runs taking turns on a loaded 2-core machine:
 * 796–1,326 deliveries/s through the thread, 1,561–1,749 on the service's thread (its CPU per
 * delivery ~210 → ~310 µs: it was idle meanwhile). With many in flight (50 webhooks) the main
 * thread's CPU is the bound, and the threads keep taking nearly all of them (under 1 % inline).
 *
 * The rule: a send goes on the service's thread when fewer than `inlineBelow` others are in
 * flight (1: only when it is the only one). Letting two go (2) was no better at 2 to 8
 * webhooks within the load's noise. It counts sends, not time, so it decides the same on a
 * busy machine and a quiet one; each path keeps its own abandon and lost-thread handling.
 */
export class InlineWhenQuiet implements ChannelSender {
  /** Measured: see the rule above. */
  static readonly INLINE_BELOW = 1;
  private inFlight = 0;
  private closed = false;
  /** Messages sent so far on each path (what bench (e) reports, and what the tests read). */
  readonly sent = { inline: 0, threads: 0 };

  constructor(
    private readonly here: ChannelSender,
    private readonly threads: ChannelSender,
    private readonly inlineBelow = InlineWhenQuiet.INLINE_BELOW,
  ) {}

  async send(job: ChannelJob, signal?: AbortSignal): Promise<ChannelSent> {
    // as the threads answer once closed: nothing new leaves a stopping service, on either path
    if (this.closed) return { kind: 'unsent', reason: 'the service is stopping' };
    const inline = this.inFlight < this.inlineBelow;
    this.sent[inline ? 'inline' : 'threads']++;
    this.inFlight++;
    try {
      return await (inline ? this.here : this.threads).send(job, signal);
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.threads.close(), this.here.close()]);
  }
}
