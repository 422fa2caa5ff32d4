import type { WebhookSettings } from '../../config/config.js';
import { invalid, type FieldError } from '../../shared/errors.js';
import { AddressPolicy, isIpLiteral } from '../http/address-policy.js';
import type { ProviderAdapter } from '../providers/provider.js';
import { matchesHostPattern } from '../providers/text.js';

/** The hosts a webhook of this type may post to: the provider's own plus the operator's. */
export function allowedHosts(provider: Pick<ProviderAdapter, 'type' | 'hosts'>, settings: WebhookSettings): string[] {
  return [...provider.hosts, ...settings.extraHosts, ...(settings.extraHostsByProvider[provider.type] ?? [])];
}

/**
 * Checks a webhook URL for its provider; returns the field errors (empty when valid). An IM app's
 * API base is checked by the same rules (its hosts, the same WEBHOOK_EXTRA_HOSTS_<TYPE>).
 */
export function checkWebhookUrl(raw: string, provider: Pick<ProviderAdapter, 'type' | 'hosts' | 'checkUrl'>, settings: WebhookSettings): FieldError[] {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [{ field: 'url', message: 'must be an absolute URL' }];
  }
  const errors: FieldError[] = [];
  const schemes = settings.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    errors.push({ field: 'url', message: `must use ${schemes.map((s) => s.slice(0, -1)).join(' or ')}` });
  }
  if (url.username || url.password) errors.push({ field: 'url', message: 'must not carry a user name or password' });
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const hosts = allowedHosts(provider, settings);
  if (provider.hosts.length > 0 && !hosts.some((pattern) => matchesHostPattern(host, pattern))) {
    errors.push({ field: 'url', message: `host ${host} is not allowed for ${provider.type}; allowed: ${hosts.join(', ')}` });
  } else if (provider.checkUrl && !settings.extraHosts.includes(host) && !(settings.extraHostsByProvider[provider.type] ?? []).includes(host)) {
    const problem = provider.checkUrl(url);
    if (problem) errors.push({ field: 'url', message: problem });
  }
  // a literal address the sending guard would refuse fails every send: refused now (names are
  // resolved, and their addresses checked, at each send)
  if (isIpLiteral(host)) {
    const verdict = addressPolicy(settings).check(host);
    if (!verdict.allowed) errors.push({ field: 'url', message: `must not point at ${verdict.reason}: such destinations are refused (WEBHOOK_ALLOWED_CIDRS may allow private ranges; metadata addresses never)` });
  }
  return errors;
}

const policies = new WeakMap<WebhookSettings, AddressPolicy>();

/** The sending guard's policy for these settings (built once per settings object). */
function addressPolicy(settings: WebhookSettings): AddressPolicy {
  let policy = policies.get(settings);
  if (!policy) {
    policy = new AddressPolicy(settings.allowedCidrs);
    policies.set(settings, policy);
  }
  return policy;
}

export function assertWebhookUrl(raw: string, provider: ProviderAdapter, settings: WebhookSettings): void {
  const errors = checkWebhookUrl(raw, provider, settings);
  if (errors.length > 0) throw invalid(errors.map((e) => e.message).join('; '), errors);
}

const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'connection', 'transfer-encoding', 'traceparent', 'tracestate']);

export function checkCustomHeaders(headers: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const entries = Object.entries(headers);
  if (entries.length > 20) errors.push({ field: 'headers', message: 'at most 20 headers' });
  for (const [name, value] of entries) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/.test(name)) errors.push({ field: `headers.${name}`, message: 'must be a valid header name' });
    else if (RESERVED_HEADERS.has(name.toLowerCase())) errors.push({ field: `headers.${name}`, message: 'is set by Herald and cannot be overridden' });
    if (typeof value !== 'string' || value.length > 2000 || /[\r\n\0]/.test(value)) {
      errors.push({ field: `headers.${name}`, message: 'must be a string of at most 2000 characters without line breaks' });
    }
  }
  return errors;
}

/** The provider's own rule for its signing secret; providers without signing refuse any. */
export function checkSigningSecret(provider: ProviderAdapter, secret: string): FieldError[] {
  if (!provider.signingSecret) return [{ field: 'signingSecret', message: `${provider.type} webhooks are not signed` }];
  const problem = provider.signingSecret.check(secret);
  return problem ? [{ field: 'signingSecret', message: problem }] : [];
}
