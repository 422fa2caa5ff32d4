import { CUSTOM } from './custom.js';
import { DINGTALK } from './dingtalk.js';
import { DISCORD } from './discord.js';
import { FEISHU, LARK } from './feishu.js';
import type { ProviderAdapter, WebhookType } from './provider.js';
import { SLACK } from './slack.js';
import { TEAMS } from './teams.js';
import { WECOM } from './wecom.js';

/** Every provider by webhook type. Adding a provider: one file implementing ProviderAdapter, one line here. */
export const PROVIDERS: Record<WebhookType, ProviderAdapter> = {
  SLACK,
  DISCORD,
  TEAMS,
  DINGTALK,
  FEISHU,
  LARK,
  WECOM,
  CUSTOM,
};

export function providerFor(type: WebhookType): ProviderAdapter {
  if (!Object.hasOwn(PROVIDERS, type)) throw new Error(`Unknown webhook type: ${String(type)}`);
  return PROVIDERS[type];
}
