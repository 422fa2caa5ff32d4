import type { UpcasterRegistry } from '../../event-store/upcasters.js';
import type { WebhookType } from '../providers/registry.js';
import { maskUrl } from './url-mask.js';
import { WebhookCreated, WebhookUpdated } from './webhook.events.js';

/** The settings that may be null (a secret removed); every other one is a value or absent. */
const NULLABLE_SETTINGS = new Set(['signingSecret', 'previousSigningSecret']);

/**
 * webhook.created 1 → 2: version 1 masked a URL as scheme, host and first path segment, so a
 * token in that segment (`http://host/TOKEN`, `/;TOKEN`) showed. Its mask is masked again
 * by today's rule, which keeps no more than scheme, host and the provider's fixed prefix
 * (the clear URL is sealed: the old mask is all there is to work from, and it is enough).
 */
export function upcastWebhookCreatedV1<D extends { type: WebhookType; urlMasked: string }>(data: D): D {
  return { ...data, urlMasked: maskUrl(data.urlMasked, data.type) };
}

/**
 * webhook.updated 1 → 2: the new URL's mask as in webhook.created (the type is not in the
 * event: scheme and host only), and the nulls version 1 let through (`{"name": null}`,
 * `{"active": null}`: the API's null rule refuses them now) dropped, as the "no value" they
 * meant, so the webhook keeps the setting it had.
 */
export function upcastWebhookUpdatedV1<D extends { changes: Record<string, unknown> }>(data: D): D {
  const changes = Object.fromEntries(Object.entries(data.changes).filter(([key, value]) => value !== null || NULLABLE_SETTINGS.has(key)));
  if (typeof changes.urlMasked === 'string') changes.urlMasked = maskUrl(changes.urlMasked);
  return { ...data, changes };
}

export function registerWebhookUpcasters(registry: UpcasterRegistry): UpcasterRegistry {
  return registry.register(WebhookCreated, 1, upcastWebhookCreatedV1).register(WebhookUpdated, 1, upcastWebhookUpdatedV1);
}
