import { createHash } from 'node:crypto';
import type { ProviderAdapter, RateLimit } from '../providers/provider.js';

/*
 * The pace of a receiver as pure rules (SharedPace keeps it in webhook_pace, for every instance).
 * A receiver's record is its latest sends, oldest first, each a time in milliseconds written with
 * STAMP_DIGITS digits: a sliding window per limit reads the send `count` back from the newest, so
 * no window ever holds more than `count` sends, and a burst up to `count` goes at once.
 */

export const STAMP_DIGITS = 13;

/** One send in a record: its time in ms with leading zeros (13 digits last until the year 2286). */
export const stamp = (ms: number): string => String(Math.max(0, Math.round(ms))).padStart(STAMP_DIGITS, '0');

/** The sends of a record, oldest first. */
export function sendsOf(record: string): number[] {
  const sends: number[] = [];
  for (let i = 0; i + STAMP_DIGITS <= record.length; i += STAMP_DIGITS) sends.push(Number(record.slice(i, i + STAMP_DIGITS)));
  return sends;
}

/**
 * The window a limit is kept over. Receivers count by their own clocks, and two requests that left
 * a minute apart may arrive closer: windows of a minute or more are kept a second longer (DingTalk
 * blocks a robot for 10 minutes past its count). Shorter ones are kept as documented: a second
 * more would halve them, and their receivers answer 429 rather than block.
 */
export function windowMs(limit: RateLimit): number {
  return limit.perMs + (limit.perMs >= 60_000 ? 1_000 : 0);
}

/** How many sends a record keeps: the most any of the limits counts. */
export function recordLength(limits: readonly RateLimit[]): number {
  return limits.reduce((most, limit) => Math.max(most, limit.count), 0);
}

/**
 * The earliest time a message may go to a receiver: after its block, and once every limit has
 * room (the send `count` back from the newest has left its window).
 */
export function nextSlot(limits: readonly RateLimit[], sends: readonly number[], blockedUntil: number, now: number): number {
  let slot = Math.max(now, blockedUntil);
  for (const limit of limits) {
    if (sends.length >= limit.count) slot = Math.max(slot, sends[sends.length - limit.count] + windowMs(limit));
  }
  return slot;
}

/** The rows a webhook's pace is kept in: its receiver's, and its provider's (a block of the sender as a whole). */
export interface PaceKeys {
  receiver: string;
  provider: string;
}

/**
 * A webhook's pace rows, from its URL in clear. The receiver is what the provider counts by (a
 * DingTalk robot's access_token, a Google Chat space), else the whole URL; the row names it by a
 * hash, so no token is stored. The hash is not keyed: instances agree on it whatever secret key
 * each holds during a rotation (what it hashes is a random token, or a URL carrying one).
 */
export function paceKeys(provider: Pick<ProviderAdapter, 'type' | 'pace'>, url: string): PaceKeys {
  let identity: string | undefined;
  try {
    identity = provider.pace.sharedBy?.(new URL(url));
  } catch {
    /* a URL that does not parse is its own receiver */
  }
  const hash = createHash('sha256')
    .update(identity || url)
    .digest('hex')
    .slice(0, 32);
  return { receiver: `${provider.type}:${hash}`, provider: provider.type };
}
