import { maskUrlKeeping } from '../../shared/url-mask.js';
import { PROVIDERS, type WebhookType } from '../providers/registry.js';

/**
 * The one masking of webhook URLs: the API's views, log lines, the event feeds and recorded
 * requests all show URLs through it. A provider's URL keeps the fixed prefixes its registry
 * entry names (publicPathPrefixes); see maskUrlKeeping for the rule.
 */
export function maskUrl(raw: string, type?: WebhookType): string {
  return maskUrlKeeping(raw, type ? PROVIDERS[type]?.publicPathPrefixes : undefined);
}
