/**
 * Long work on the one event loop, cut into slices: call `await budget.slice()` between small
 * units of work (a page of events, one event); once `sliceMs` have passed since the loop last had
 * a turn, it gives it one (setImmediate: requests, heartbeats and timers waiting run first). So a
 * replay or a decisions page never holds the loop for much more than a slice plus one unit,
 * whatever its size. better-sqlite3 is synchronous, so on SQLite nothing else would yield.
 *
 * Elapsed wall time (performance.now), not the injected clock: this measures how long the loop
 * has been held, which a test's manual clock knows nothing of.
 */
export class LoopBudget {
  /** A slice: short enough for /health/live and the heartbeat to keep their rhythm, long enough to amortize the turn. */
  static readonly SLICE_MS = 5;
  private since = performance.now();

  constructor(private readonly sliceMs = LoopBudget.SLICE_MS) {}

  /** Gives the loop a turn if this slice is used up. */
  async slice(): Promise<void> {
    if (performance.now() - this.since < this.sliceMs) return;
    await nextTurn();
    this.since = performance.now();
  }

  /** Gives the loop a turn now (before a unit of work that is known to be long). */
  async turn(): Promise<void> {
    await nextTurn();
    this.since = performance.now();
  }
}

/** Resolves after the loop has run what is waiting (I/O callbacks included). */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
