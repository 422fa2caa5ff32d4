import type { WebhookHealthState } from '../config/webhook.events.js';

export const TEMPORARY_DISABLE_AFTER = 4;
export const PERMANENT_DISABLE_AFTER = 40;
const BASE_MS = 60_000;
const MAX_MS = 24 * 3_600_000;

export interface HealthDecision {
  state: WebhookHealthState;
  disabledUntil: Date | null;
}

/**
 * The endpoint health state machine: after 4 consecutive unsuccessful attempts the
 * webhook rests for 1 min × 2^(n−4) (at most 24 h); after 40, or when the endpoint is
 * gone (410), it is disabled until someone re-enables it. One success resets it.
 */
export function nextHealth(consecutiveFailures: number, gone: boolean, now: Date): HealthDecision {
  if (gone || consecutiveFailures >= PERMANENT_DISABLE_AFTER) return { state: 'DISABLED', disabledUntil: null };
  if (consecutiveFailures >= TEMPORARY_DISABLE_AFTER) {
    const pause = Math.min(BASE_MS * 2 ** (consecutiveFailures - TEMPORARY_DISABLE_AFTER), MAX_MS);
    return { state: 'TEMPORARILY_DISABLED', disabledUntil: new Date(now.getTime() + pause) };
  }
  return { state: 'ACTIVE', disabledUntil: null };
}

const MAX_RETRY_DELAY_MS = 24 * 3_600_000;

/**
 * When to try again after the k-th unsuccessful attempt since the delivery was (re)queued,
 * or null when the schedule is exhausted. ±20 % jitter; a provider's own wait moves it
 * later, never earlier, and never past 24 h.
 */
export function nextAttemptAt(k: number, scheduleMs: readonly number[], now: Date, random: () => number, notBefore?: Date): Date | null {
  if (k > scheduleMs.length) return null;
  const jittered = scheduleMs[k - 1] * (0.8 + 0.4 * random());
  const at = Math.max(now.getTime() + jittered, notBefore?.getTime() ?? 0);
  return new Date(Math.min(at, now.getTime() + MAX_RETRY_DELAY_MS));
}
