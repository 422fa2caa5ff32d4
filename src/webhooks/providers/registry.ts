import { CUSTOM } from './custom.js';
import { DINGTALK } from './dingtalk.js';
import { DISCORD } from './discord.js';
import { FEISHU, LARK } from './feishu.js';
import { GOOGLE_CHAT } from './google-chat.js';
import type { ProviderAdapter } from './provider.js';
import { SLACK } from './slack.js';
import { TEAMS } from './teams.js';
import { WECOM } from './wecom.js';

/**
 * Every provider, in the order the API and the console list them: the single source of webhook
 * types, their input aliases, hosts, URL rules, signing, limits, pace and judges. Validation, the
 * OpenAPI enum, configuration (`WEBHOOK_EXTRA_HOSTS_<TYPE>`) and the console (through
 * `GET /api/webhook-types`) read this list. Adding a provider: one file, one line here.
 */
const LIST = [SLACK, DISCORD, TEAMS, DINGTALK, FEISHU, LARK, WECOM, GOOGLE_CHAT, CUSTOM] as const;

/** Webhook types in their short form (`SLACK`). */
export type WebhookType = (typeof LIST)[number]['type'];
export const WEBHOOK_TYPES: readonly WebhookType[] = LIST.map((p) => p.type);

/** Every provider by webhook type. */
export const PROVIDERS = Object.freeze(Object.fromEntries(LIST.map((p) => [p.type, p]))) as Readonly<Record<WebhookType, ProviderAdapter<WebhookType>>>;

export function providerFor(type: WebhookType): ProviderAdapter<WebhookType> {
  if (!Object.hasOwn(PROVIDERS, type)) throw new Error(`Unknown webhook type: ${String(type)}`);
  return PROVIDERS[type];
}

/** The short form of a type as given on input (`SLACK`, or an alias such as `bb.plugin.webhook.slack`); undefined when unknown. */
export function normalizeWebhookType(raw: string): WebhookType | undefined {
  if ((WEBHOOK_TYPES as readonly string[]).includes(raw)) return raw as WebhookType;
  const lower = raw.toLowerCase();
  return LIST.find((p) => p.aliases.some((alias) => alias.toLowerCase() === lower))?.type;
}
