import { PROVIDERS, type WebhookType } from '../providers/registry.js';

/**
 * Webhook URLs are credentials, and a token may sit anywhere in the path (even its first
 * segment, `/;TOKEN`) or in the query. Masked, a URL keeps its scheme and host (with the
 * port), and for providers whose URL shape is known, the fixed prefixes its registry entry names (publicPathPrefixes); the rest of
 * the path, the query and the fragment become `***`. Without a type (or off the provider's
 * shape) only scheme and host remain. The one masking function: the API's views, log
 * lines, the event feeds and recorded requests all show URLs through it. Masking a masked
 * URL again gives the same URL.
 */
export function maskUrl(raw: string, type?: WebhookType): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '***';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return '***';
  const path = url.pathname;
  const prefix = (type ? PROVIDERS[type]?.publicPathPrefixes : undefined)?.find((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
  const kept = prefix ?? '/';
  const hidden = path.length > kept.length || url.search !== '' || url.hash !== '';
  return `${url.protocol}//${url.host}${kept}${hidden ? (kept.endsWith('/') ? '***' : '?***') : ''}`;
}
