import type { DeliveryStatus, WebhookView } from './api.js';
import { h, time } from './dom.js';

/** A webhook's health as people say it: on, resting until a time, or disabled. */
export function stateBadge(hook: WebhookView): HTMLElement {
  if (!hook.active) return h('span', { class: 'badge off' }, 'Paused (not active)');
  switch (hook.state) {
    case 'ACTIVE':
      return h('span', { class: 'badge ok' }, 'Active');
    case 'TEMPORARILY_DISABLED':
      return h('span', { class: 'badge warn' }, 'Temporarily disabled until ', time(hook.disabledUntil));
    case 'DISABLED':
      return h('span', { class: 'badge bad' }, 'Disabled');
  }
}

export const needsReEnable = (hook: WebhookView) => !hook.active || hook.state !== 'ACTIVE';

const STATUS_CLASS: Record<DeliveryStatus, string> = {
  DELIVERED: 'ok',
  FAILED: 'bad',
  SKIPPED: 'off',
  PENDING: 'warn',
  DELIVERING: 'warn',
  RETRYING: 'warn',
  HELD: 'warn',
  COALESCED: 'ok',
};

export function statusBadge(status: DeliveryStatus): HTMLElement {
  return h('span', { class: `badge ${STATUS_CLASS[status]}`, 'data-status': status }, status.toLowerCase());
}

/** A webhook's type and health, as its card and its page show them. */
export function webhookBadges(hook: WebhookView): HTMLElement {
  return h('p', { class: 'badges' }, h('span', { class: 'badge type' }, hook.type), ' ', stateBadge(hook));
}
