import type { RateLimit } from '../providers/provider.js';

/**
 * Client-side pace per webhook: a sliding window per limit. A send that would exceed a
 * limit is told when its slot comes; it waits, it does not fail.
 */
export class PaceKeeper {
  private readonly sent = new Map<number, number[]>();

  /** The earliest time (ms) a request to this webhook may go, given its limits. */
  nextSlot(webhookId: number, limits: readonly RateLimit[], now: number): number {
    const history = this.sent.get(webhookId) ?? [];
    let slot = now;
    for (const { count, perMs } of limits) {
      const recent = history.filter((t) => t > now - perMs);
      if (recent.length >= count) slot = Math.max(slot, recent[recent.length - count] + perMs);
    }
    return slot;
  }

  record(webhookId: number, limits: readonly RateLimit[], at: number): void {
    if (limits.length === 0) return;
    const window = Math.max(...limits.map((l) => l.perMs));
    const history = (this.sent.get(webhookId) ?? []).filter((t) => t > at - window);
    history.push(at);
    this.sent.set(webhookId, history);
  }
}
