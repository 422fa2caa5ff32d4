import type { FieldError } from '../../shared/errors.js';
import type { WebhookType } from '../providers/registry.js';

/**
 * Coalescing for chat rooms: a webhook's activities that come due within its window go
 * as one message. The first activity after a quiet window goes at once (leading edge);
 * what comes due during the window waits for its end and goes together. So a room gets
 * at most one message per window (besides retries), and a lone activity is never delayed.
 */
export const COALESCE_MAX_SECONDS = 3600;

/** DingTalk and WeCom robots take 20 messages a minute and then block: their default window is a minute. */
export const DEFAULT_WINDOW_SECONDS: Partial<Record<WebhookType, number>> = { DINGTALK: 60, WECOM: 60 };

/** The window in ms a webhook coalesces over (0: off). Custom bodies are one activity each, always. */
export function windowMs(hook: { type: WebhookType; coalesce?: { windowSeconds: number } }): number {
  if (hook.type === 'CUSTOM') return 0;
  return (hook.coalesce?.windowSeconds ?? DEFAULT_WINDOW_SECONDS[hook.type] ?? 0) * 1000;
}

/** The window as the API shows it (the provider's default when none was set). */
export function coalesceView(hook: { type: WebhookType; coalesce?: { windowSeconds: number } }): { windowSeconds: number } {
  return { windowSeconds: windowMs(hook) / 1000 };
}

/** Given when the webhook's last message went: send now, or wait until the window ends. */
export function windowGate(lastSentAt: number | undefined, now: number, window: number): { kind: 'send' } | { kind: 'wait'; until: number } {
  if (window <= 0 || lastSentAt === undefined || now >= lastSentAt + window) return { kind: 'send' };
  return { kind: 'wait', until: lastSentAt + window };
}

/** The 400 field errors of a coalesce setting given on input. */
export function checkCoalesce(type: WebhookType, coalesce: { windowSeconds: number } | undefined): FieldError[] {
  if (coalesce === undefined) return [];
  if (type === 'CUSTOM' && coalesce.windowSeconds !== 0) return [{ field: 'coalesce.windowSeconds', message: 'CUSTOM webhooks send one activity per body: coalescing is for chat webhooks' }];
  return [];
}
