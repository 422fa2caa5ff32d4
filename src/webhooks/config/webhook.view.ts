import type { RetiredUrlView, WebhookView } from '../../contract/webhooks.js';
import type { EventStore } from '../../event-store/event-store.js';
import { coalesceView } from '../coalesce/window.js';
import { providerFor } from '../providers/registry.js';
import type { WebhookConfig } from './webhook.decider.js';

/** The API's shape of a webhook (contract/webhooks.ts, shared with the console). */
export type { WebhookView };

/** The API's view of a webhook: URL masked, secrets and header values never shown. */
export function toWebhookView(hook: WebhookConfig, consecutiveFailures: number): WebhookView {
  return {
    id: hook.id,
    projectId: hook.projectId,
    type: hook.type,
    name: hook.name,
    url: hook.urlMasked,
    activityTypes: hook.activityTypes,
    active: hook.active,
    state: hook.health.state,
    consecutiveFailures,
    disabledUntil: hook.health.disabledUntil,
    lastError: hook.health.lastError,
    hasSigningSecret: hook.signingSecret !== null,
    headerNames: Object.keys(hook.headers),
    ordered: hook.ordered,
    filter: hook.filter ?? null,
    coalesce: coalesceView(hook),
    retiredUrl: retiredUrlOf(hook),
    directMessage: hook.directMessage ?? false,
    createdAt: hook.createdAt,
    updatedAt: hook.updatedAt,
  };
}

/** Whether the webhook's URL is of a kind its service has retired (the masked URL keeps the host that tells). */
function retiredUrlOf(hook: WebhookConfig): RetiredUrlView | null {
  const provider = providerFor(hook.type);
  if (!provider.retiredUrl || !URL.canParse(hook.urlMasked)) return null;
  return provider.retiredUrl(new URL(hook.urlMasked)) ?? null;
}

/** The view of a webhook, with its failure count (kept by the delivery recorder). */
export async function viewOf(store: EventStore, hook: WebhookConfig): Promise<WebhookView> {
  const failures = await store.queryOne<{ consecutive: number; last_error: string | null }>(`SELECT consecutive, last_error FROM webhook_failures WHERE webhook_id = ?`, [hook.id]);
  const view = toWebhookView(hook, failures?.consecutive ?? 0);
  return { ...view, lastError: hook.health.lastError ?? failures?.last_error ?? null };
}

