import type { WebhookType } from '../providers/provider.js';

/**
 * The fixed, non-secret start of each provider's webhook URL paths. Whatever follows
 * (team, channel and hook ids, tokens, signatures) is hidden. A prefix ending in `/` keeps
 * that much of a longer path; one without keeps an exactly equal path (its query, which
 * holds the token, hidden). Kept by provider type in this one map until the provider
 * registry holds per-provider data.
 */
export const FIXED_URL_PREFIXES: Partial<Record<WebhookType, readonly string[]>> = {
  SLACK: ['/services/'],
  DISCORD: ['/api/webhooks/'],
  TEAMS: ['/webhookb2/', '/workflows/', '/powerautomate/automations/direct/workflows/'],
  DINGTALK: ['/robot/send'],
  FEISHU: ['/open-apis/bot/v2/hook/'],
  LARK: ['/open-apis/bot/v2/hook/'],
  WECOM: ['/cgi-bin/webhook/send'],
};

/**
 * Webhook URLs are credentials, and a token may sit anywhere in the path (even its first
 * segment, `/;TOKEN`) or in the query. Masked, a URL keeps its scheme and host (with the
 * port), and for providers whose URL shape is known, the fixed prefix above; the rest of
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
  const prefix = (type ? FIXED_URL_PREFIXES[type] : undefined)?.find((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
  const kept = prefix ?? '/';
  const hidden = path.length > kept.length || url.search !== '' || url.hash !== '';
  return `${url.protocol}//${url.host}${kept}${hidden ? (kept.endsWith('/') ? '***' : '?***') : ''}`;
}
