/**
 * Long work (a check of the whole log, a rebuild, a sweep, an import) runs in slices of a few
 * milliseconds and awaits this between them: requests, heartbeats and deliveries queued
 * meanwhile run first. An awaited promise alone would not do: better-sqlite3 answers
 * synchronously, so its promises resolve without ever leaving the loop to others.
 */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Long work on the one event loop, in slices: the work calls `pause()` between its steps,
 * and every `ms` milliseconds that gives the loop a turn (a `setImmediate`, after pending
 * I/O), so health checks, heartbeats and requests are answered meanwhile. Each step must
 * itself be short: a slice ends at the first pause after its time is up. The time is the
 * process's own (how long the loop has been held), not the domain's clock.
 */
export class TimeSlice {
  /** For work beside live deliveries and requests (replays, decisions pages): short slices, the turn amortized over a few pages. */
  static readonly SHORT_MS = 5;
  private started: number;

  constructor(
    private readonly ms = 20,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** Whether this slice's time is up. */
  get due(): boolean {
    return this.now() - this.started >= this.ms;
  }

  /** Gives the loop a turn if this slice's time is up (then a new slice starts). */
  async pause(): Promise<void> {
    if (!this.due) return;
    await this.turn();
  }

  /** Gives the loop a turn now (before a unit of work known to be long), and starts a new slice. */
  async turn(): Promise<void> {
    await yieldToLoop();
    this.started = this.now();
  }
}
