import type { JudgeContext, ProviderAdapter, ProviderResponse, Throttle, Verdict } from './provider.js';
import { truncate } from './text.js';

/* The parts of judging a provider's response that all providers share: waits, headers, JSON bodies, verdicts. Pure. */


/** Retry-After (and providers' own waits) move an attempt at most this far ahead. */
export const MAX_WAIT_MS = 24 * 60 * 60 * 1000;

function clampNotBefore(ms: number, now: Date): Date {
  const from = now.getTime();
  return new Date(Math.min(Math.max(ms, from), from + MAX_WAIT_MS));
}

/** `now + seconds` (fractions allowed), clamped to [now, now + 24 h]; undefined when not a finite number. */
export function afterSeconds(seconds: unknown, now: Date): Date | undefined {
  const n = typeof seconds === 'string' && seconds.trim() !== '' ? Number(seconds) : seconds;
  if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
  return clampNotBefore(now.getTime() + Math.round(n * 1000), now);
}

/**
 * A `Retry-After` value (delay in seconds, or an HTTP date) as the earliest time of the next
 * attempt: never earlier than `now`, never more than 24 h ahead; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: Date): Date | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^[+-]?\d+(\.\d+)?$/.test(v)) return afterSeconds(Number(v), now);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : clampNotBefore(at, now);
}

/** The later of two optional times. */
export function later(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.getTime() >= b.getTime() ? a : b;
}

/** A response header by name, whatever its case. */
export function header(response: ProviderResponse, name: string): string | undefined {
  const wanted = name.toLowerCase();
  if (response.headers[wanted] !== undefined) return response.headers[wanted];
  const key = Object.keys(response.headers).find((k) => k.toLowerCase() === wanted);
  return key === undefined ? undefined : response.headers[key];
}

export function retryAfterOf(response: ProviderResponse, now: Date): Date | undefined {
  return parseRetryAfter(header(response, 'retry-after'), now);
}

/** The body parsed as a JSON object, or undefined. */
export function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A numeric code (number or numeric string) as a number; undefined otherwise. */
export function numericCode(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

/** A short, single-line excerpt of a response body for reasons and logs. */
export function excerpt(body: string, max = 200): string {
  return truncate(body.replace(/\s+/g, ' ').trim(), max);
}

export const DELIVERED: Verdict = Object.freeze({ kind: 'delivered' });

export function retry(reason: string, notBefore?: Date): Verdict {
  return notBefore ? { kind: 'retry', reason, notBefore } : { kind: 'retry', reason };
}

export function failed(reason: string, disable = false): Verdict {
  return disable ? { kind: 'failed', reason, disable: true } : { kind: 'failed', reason };
}

export function describeResponse(response: ProviderResponse): string {
  const text = excerpt(response.body);
  return text ? `HTTP ${response.status}: ${text}` : `HTTP ${response.status}`;
}

/**
 * What every provider does with a status its own rules did not settle: 3xx failed (redirects are
 * never followed), 410 failed and disable, 429 and 5xx retry (honouring Retry-After), other 4xx
 * failed, and anything else (an unexpected 1xx/2xx) failed.
 */
export function judgeStatus(response: ProviderResponse, now: Date): Verdict {
  const { status } = response;
  const what = describeResponse(response);
  if (status >= 300 && status < 400) return failed(`${what} (redirects are not followed)`);
  if (status === 410) return failed(`${what} (endpoint gone)`, true);
  if (status === 429 || (status >= 500 && status < 600)) return retry(what, retryAfterOf(response, now));
  return failed(what);
}

export const isSuccess = (status: number) => status >= 200 && status < 300;

/** How long a receiver that answered 429 without saying how long is left alone: the retry schedule's first delay. */
export const UNSTATED_THROTTLE_MS = 5_000;

/** A receiver's throttle `until` (clamped to [now, now + 24 h]), or after the unstated wait when it said none. */
export function throttleUntil(reason: string, now: Date, until: Date | undefined, scope: Throttle['scope'] = 'receiver'): Throttle {
  return { until: until ? clampNotBefore(until.getTime(), now) : new Date(now.getTime() + UNSTATED_THROTTLE_MS), reason, scope };
}

/** What a 429 says of the receiver: wait until Retry-After. Undefined for any other status. */
export function throttleOf429(response: ProviderResponse, now: Date): Throttle | undefined {
  return response.status === 429 ? throttleUntil(describeResponse(response), now, retryAfterOf(response, now)) : undefined;
}

/** What the answer says of the receiver's limit: the provider's own reading, or a 429's. */
export function receiverThrottle(provider: Pick<ProviderAdapter, 'throttle'>, response: ProviderResponse, ctx: JudgeContext): Throttle | undefined {
  return provider.throttle ? provider.throttle(response, ctx) : throttleOf429(response, ctx.now);
}

/** A robot's `{errcode, errmsg}` answer (DingTalk, WeCom): its code and the reason to record. */
export function errcodeAnswer(response: ProviderResponse): { code: number | undefined; reason: string } {
  const body = jsonObject(response.body);
  const code = numericCode(body?.errcode);
  return { code, reason: typeof body?.errmsg === 'string' && body.errmsg !== '' ? body.errmsg : `errcode ${code}` };
}

/**
 * A robot that answers 200 with `throttleCode` when sent too much: it takes nothing for `holdMs` (or longer, if
 * Retry-After says so), from any sender. Any other status: what a 429 says.
 */
export function errcodeThrottle(response: ProviderResponse, now: Date, throttleCode: number, holdMs: number): Throttle | undefined {
  if (response.status !== 200) return throttleOf429(response, now);
  const { code, reason } = errcodeAnswer(response);
  return code === throttleCode ? throttleUntil(reason, now, later(new Date(now.getTime() + holdMs), retryAfterOf(response, now))) : undefined;
}
