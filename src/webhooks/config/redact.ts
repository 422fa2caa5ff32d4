import type { RecordedEvent } from '../../event-store/event.js';
import { maskApiBase } from '../../shared/url-mask.js';
import { maskUrl } from './url-mask.js';

/**
 * Webhook URLs and signing secrets are credentials: events that carry them are shown
 * with the URL masked, the secret and header values hidden, wherever events leave the
 * service (the event feeds).
 */
export function redactEvent(event: RecordedEvent): RecordedEvent {
  // an IM app's credentials: their names stay (what was set), never their values; its API base masked like a webhook URL
  if (event.type === 'im-app.set' || event.type === 'im-app.secrets-resealed') {
    const data = event.data as { credentials: Record<string, string>; apiBase?: unknown };
    const apiBase = typeof data.apiBase === 'string' ? { apiBase: maskApiBase(data.apiBase) } : {};
    return { ...event, data: { ...data, ...apiBase, credentials: Object.fromEntries(Object.keys(data.credentials).map((name) => [name, '***'])) } };
  }
  if (event.type !== 'webhook.created' && event.type !== 'webhook.updated' && event.type !== 'webhook.secrets-resealed') return event;
  const hide = (settings: Record<string, unknown>) => ({
    ...settings,
    ...(typeof settings.url === 'string' ? { url: typeof settings.urlMasked === 'string' ? settings.urlMasked : maskUrl(settings.url) } : {}),
    ...(settings.signingSecret ? { signingSecret: '***' } : {}),
    ...(settings.previousSigningSecret ? { previousSigningSecret: '***' } : {}),
    ...(settings.headers && typeof settings.headers === 'object'
      ? { headers: Object.fromEntries(Object.keys(settings.headers).map((name) => [name, '***'])) }
      : {}),
  });
  const data = event.data as Record<string, unknown>;
  return {
    ...event,
    data: event.type === 'webhook.updated' ? { ...data, changes: hide(data.changes as Record<string, unknown>) } : hide(data),
  };
}
