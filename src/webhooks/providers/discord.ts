import type { Activity } from '../activity.js';
import { defineProvider, type OutgoingRequest, type ProviderResponse, type RenderContext, type Throttle, type Verdict, type WebhookTarget } from './provider.js';
import { LEVEL_COLOR, UNICODE_EMOJI, type MessageParts, fitParts, hostMatches, partsOf, truncate } from './text.js';
import { DELIVERED, afterSeconds, describeResponse, failed, header, isSuccess, jsonObject, judgeStatus, later, retry, retryAfterOf, throttleUntil } from './judging.js';

/** Discord's embed limits, in characters, and the message content limit. */
export const DISCORD_LIMITS = { title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, authorName: 256, embedTotal: 6000 } as const;

const HOSTS = ['discord.com', 'discordapp.com'] as const;

/** A 429's wait: the header in whole seconds, the body's `retry_after` in (fractional) seconds; both may be given. */
function retryWait(response: ProviderResponse, now: Date): Date | undefined {
  return later(retryAfterOf(response, now), afterSeconds(jsonObject(response.body)?.retry_after, now));
}

/**
 * What Discord's answer says of its limits (discord.com/developers/docs/topics/rate-limits): a 429
 * waits `retry_after`, for every Discord webhook when the limit is the global one
 * (`X-RateLimit-Global`, `X-RateLimit-Scope: global`, or `global` in the body); any answer with
 * `X-RateLimit-Remaining: 0` says its bucket (`X-RateLimit-Bucket`) is spent until `X-RateLimit-Reset-After`.
 */
function throttled(response: ProviderResponse, now: Date): Throttle | undefined {
  const bucket = header(response, 'x-ratelimit-bucket');
  const of = bucket ? ` (bucket ${bucket})` : '';
  if (response.status === 429) {
    const global = /^true$/i.test(header(response, 'x-ratelimit-global') ?? '') || /^global$/i.test(header(response, 'x-ratelimit-scope') ?? '') || jsonObject(response.body)?.global === true;
    return throttleUntil(`${describeResponse(response)}${of}`, now, retryWait(response, now), global ? 'provider' : 'receiver');
  }
  if (header(response, 'x-ratelimit-remaining')?.trim() !== '0') return undefined;
  const reset = afterSeconds(header(response, 'x-ratelimit-reset-after'), now);
  return reset ? throttleUntil(`no requests remaining${of} until the limit resets`, now, reset) : undefined;
}

/** Discord refuses empty field names and values; a zero-width space shows as blank. */
const nonEmpty = (text: string) => (text === '' ? '\u200b' : text);

/** The embed's texts from (possibly shrunk) parts, each within its own limit. */
function embedTexts(parts: MessageParts, emoji: string) {
  const L = DISCORD_LIMITS;
  return {
    title: emoji + truncate(parts.title, L.title - emoji.length),
    description: truncate(parts.description, L.description),
    author: truncate(parts.actor, L.authorName),
    fields: parts.meta.slice(0, L.fields).map((m) => ({ name: truncate(nonEmpty(m.name), L.fieldName), value: truncate(nonEmpty(m.value), L.fieldValue) })),
  };
}

/** The characters Discord counts toward the 6,000 of an embed. */
function embedSize(texts: ReturnType<typeof embedTexts>): number {
  return texts.title.length + texts.description.length + texts.author.length + texts.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
}

export const DISCORD = defineProvider({
  type: 'DISCORD',
  aliases: ['bb.plugin.webhook.discord'],
  displayName: 'Discord',
  exampleUrl: 'https://discord.com/api/webhooks/1234/token-abc',
  hosts: HOSTS,
  publicPathPrefixes: ['/api/webhooks/'],
  customHeaders: false,
  limits: DISCORD_LIMITS,
  // Discord announces its limits in every answer (followed: see `throttle`); these two are what it is known to
  // keep for a webhook (5 per 2 s per webhook, 30 a minute per channel), kept until it says otherwise. The
  // receiver is the Discord webhook's id, the top-level resource its limits are counted by.
  pace: {
    limits: [
      { count: 5, perMs: 2000 },
      { count: 30, perMs: 60_000 },
    ],
    sharedBy: (url) => /^\/api\/(?:v\d+\/)?webhooks\/(\d+)\//.exec(url.pathname)?.[1],
  },

  /** Discord's own hosts only take webhook URLs (`/api/webhooks/{id}/{token}`); operator-added hosts are left alone. */
  checkUrl(url: URL): string | undefined {
    if (hostMatches(url.hostname, HOSTS) && !url.pathname.startsWith('/api/webhooks/')) {
      return 'A Discord webhook URL has a path starting with /api/webhooks/';
    }
    return undefined;
  },

  render(activity: Activity, hook: WebhookTarget, ctx: RenderContext): OutgoingRequest {
    const emoji = UNICODE_EMOJI[activity.level];
    // Per-field limits first, then the 6,000 total: the description shrinks first.
    const parts = fitParts(partsOf(activity), (p) => embedSize(embedTexts(p, emoji)), DISCORD_LIMITS.embedTotal);
    const texts = embedTexts(parts, emoji);
    const embed = {
      title: texts.title,
      ...(texts.description ? { description: texts.description } : {}),
      url: activity.link,
      color: LEVEL_COLOR[activity.level],
      author: { name: texts.author },
      fields: texts.fields,
      timestamp: new Date(activity.createdTs * 1000).toISOString(),
    };
    // The embed's title is the link (as in Bytebase): no content line. Embeds never ping, and
    // `allowed_mentions` says so explicitly: nothing a user typed can notify the channel.
    return { url: hook.url, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ embeds: [embed], allowed_mentions: { parse: [] } }) };
  },

  judge(response: ProviderResponse, ctx: { now: Date }): Verdict {
    // 204 No Content by default, 200 with `?wait=true`.
    if (isSuccess(response.status)) return DELIVERED;
    if (response.status === 429) return retry(describeResponse(response), retryWait(response, ctx.now));
    if (response.status === 401 || response.status === 403 || response.status === 404) return failed(describeResponse(response));
    return judgeStatus(response, ctx.now);
  },

  throttle: (response, ctx) => throttled(response, ctx.now),
});
