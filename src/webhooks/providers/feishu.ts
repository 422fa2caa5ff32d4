import { createHmac } from 'node:crypto';
import type { Activity } from '../activity.js';
import { MENTIONABLE_EMAIL, isMentionable } from '../../users/contact-handles.js';
import { ROBOT_SIGNING_SECRET, defineProvider, type OutgoingRequest, type ProviderAdapter, type ProviderResponse, type RenderContext, type Throttle, type Verdict, type WebhookTarget } from './provider.js';
import { FEISHU_TEMPLATE, breakMarkup, type MessageParts, fitParts, mapParts, mentionMarkup, partsOf } from './text.js';
import { DELIVERED, afterSeconds, describeResponse, failed, header, jsonObject, judgeStatus, later, numericCode, retry, retryAfterOf, throttleUntil } from './judging.js';

/** Feishu/Lark refuse request bodies over 20 KB; read as 20,000 bytes, the stricter reading. */
export const FEISHU_MAX_BODY_BYTES = 20_000;
/** Codes meaning "rate limited": try again later. */
const RATE_LIMITED = new Set([9499, 11232]);
/** A bot that said it is rate limited without saying for how long waits a minute: its longer window. */
export const FEISHU_THROTTLE_MS = 60 * 1000;

/** The bot's answer: `code`/`msg`, or `StatusCode`/`StatusMessage` from bots created long ago, and the reason to record. */
function answer(response: ProviderResponse): { code: number | undefined; reason: string } {
  const body = jsonObject(response.body);
  const code = numericCode(body?.code) ?? numericCode(body?.StatusCode);
  const msg = [body?.msg, body?.StatusMessage].find((m): m is string => typeof m === 'string' && m !== '');
  return { code, reason: msg ?? (code === undefined ? describeResponse(response) : `code ${code}`) };
}

/**
 * 11232 (over 5 a second or 100 a minute) or 9499, whatever the HTTP status, or a 429: the bot takes
 * nothing until the time its answer states (the open platform's `x-ogw-ratelimit-reset`, in seconds,
 * or Retry-After), else for a minute after one of its codes (a bare 429: as any provider's).
 */
function throttled(response: ProviderResponse, now: Date): Throttle | undefined {
  const { code, reason } = answer(response);
  const coded = code !== undefined && RATE_LIMITED.has(code);
  if (!coded && response.status !== 429) return undefined;
  const stated = later(afterSeconds(header(response, 'x-ogw-ratelimit-reset'), now), retryAfterOf(response, now));
  return throttleUntil(reason, now, stated ?? (coded ? new Date(now.getTime() + FEISHU_THROTTLE_MS) : undefined));
}

/**
 * Feishu/Lark card markdown takes `<at id=all></at>` as a mention of everyone: user text is
 * written with HTML escapes (which the card shows as the characters typed), so it stays text.
 * The header is plain text, shown as typed: a zero-width space breaks the markup there.
 */
const escapeMarkup = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** `<at email=…></at>`: Feishu/Lark mention a member by the email of their account. */
export function feishuMentions(activity: Activity): string[] {
  return mentionMarkup(activity, (p) => (isMentionable(p.email, MENTIONABLE_EMAIL) ? `<at email=${p.email}></at>` : undefined));
}

export function feishuMarkdown(raw: MessageParts, link: string, brand: string, mentions: readonly string[] = []): string {
  const p = mapParts(raw, escapeMarkup);
  const lines: string[] = [];
  if (p.description) lines.push(p.description);
  for (const m of p.meta) lines.push(`**${m.name}**: ${m.value}`);
  lines.push(`**By**: ${p.actor}`);
  if (mentions.length > 0) lines.push(mentions.join(' '));
  lines.push(`[View in ${brand}](${link})`);
  return lines.join('\n');
}

/** Base64(HMAC-SHA256(key = "{timestamp}\n{secret}", message = empty)). */
export function feishuSign(secret: string, timestampSeconds: string): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

/** Feishu (open.feishu.cn) and Lark (open.larksuite.com) speak the same custom-bot API. */
function feishuLike<const T extends string>(type: T, displayName: string, host: string): ProviderAdapter<T> {
  return defineProvider({
    type,
    aliases: [`bb.plugin.webhook.${type.toLowerCase()}`],
    displayName,
    exampleUrl: `https://${host}/open-apis/bot/v2/hook/XXXX`,
    hosts: [host],
    publicPathPrefixes: ['/open-apis/bot/v2/hook/'],
    signingSecret: ROBOT_SIGNING_SECRET,
    customHeaders: false,
    limits: { bodyBytes: FEISHU_MAX_BODY_BYTES },
    // 5 a second and 100 a minute per bot, bodies up to 20 KB (open.feishu.cn / open.larksuite.com, custom bots):
    // the bot is its hook id
    pace: {
      limits: [
        { count: 5, perMs: 1000 },
        { count: 100, perMs: 60_000 },
      ],
      sharedBy: (url) => /\/hook\/([^/?#]+)/.exec(url.pathname)?.[1],
    },

    render(activity: Activity, hook: WebhookTarget, ctx: RenderContext): OutgoingRequest {
      const secret = hook.signingSecrets[0];
      const timestamp = String(Math.floor(ctx.now.getTime() / 1000));
      const signature = secret ? { timestamp, sign: feishuSign(secret, timestamp) } : {};
      const mentions = feishuMentions(activity);
      const message = (p: MessageParts) => ({
        ...signature,
        msg_type: 'interactive',
        card: {
          config: { wide_screen_mode: true, enable_forward: true },
          header: { title: { tag: 'plain_text', content: breakMarkup(p.title, /<(?=\s*at\b)/gi) }, template: FEISHU_TEMPLATE[activity.level] },
          elements: [{ tag: 'markdown', content: feishuMarkdown(p, activity.link, ctx.brand, mentions) }],
        },
      });
      const size = (p: MessageParts) => Buffer.byteLength(JSON.stringify(message(p)), 'utf8');
      const parts = fitParts(partsOf(activity), size, FEISHU_MAX_BODY_BYTES);
      return { url: hook.url, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(message(parts)) };
    },

    judge(response: ProviderResponse, ctx: { now: Date }): Verdict {
      const { code, reason } = answer(response);
      if (code !== undefined && RATE_LIMITED.has(code)) return retry(reason, throttled(response, ctx.now)!.until);
      if (response.status !== 200) return judgeStatus(response, ctx.now);
      if (code === 0) return DELIVERED;
      if (code === undefined) return failed(`${describeResponse(response)} (no code)`);
      // 19021 (signature or timestamp), 19024 (keyword missing) and the rest.
      return failed(reason);
    },

    throttle: (response, ctx) => throttled(response, ctx.now),
  });
}

export const FEISHU = feishuLike('FEISHU', 'Feishu', 'open.feishu.cn');
export const LARK = feishuLike('LARK', 'Lark', 'open.larksuite.com');
