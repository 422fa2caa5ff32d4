import type { Activity } from '../activity.js';
import { WECOM_USER_ID, isMentionable } from '../../users/contact-handles.js';
import { defineProvider, type OutgoingRequest, type ProviderResponse, type RenderContext, type Throttle, type Verdict, type WebhookTarget } from './provider.js';
import { type MessageParts, WECOM_STATUS, breakMarkup, fitParts, mapParts, mentionMarkup, partsOf, quote, utf8Length } from './text.js';
import { DELIVERED, describeResponse, errcodeAnswer, errcodeThrottle, failed, judgeStatus, retry } from './judging.js';

/** WeCom refuses markdown content over 4,096 bytes of UTF-8. */
export const WECOM_MAX_CONTENT_BYTES = 4096;
/** errcode 45009 (rate limited): try again after a minute. */
export const WECOM_THROTTLE_MS = 60 * 1000;

/** 45009 (over 20 a minute): the robot takes nothing for a minute, or as long as Retry-After says. */
const throttled = (response: ProviderResponse, now: Date): Throttle | undefined =>
  errcodeThrottle(response, now, 45009, WECOM_THROTTLE_MS);

/** `<@userid>` is WeCom's mention markup in markdown: user text keeps it as text. */
const noMentions = (p: MessageParts) => mapParts(p, (text) => breakMarkup(text, /<(?=@)/g));

export function wecomContent(raw: MessageParts, activity: Activity, brand: string): string {
  const p = noMentions(raw);
  const lines = [`# ${WECOM_STATUS[activity.level]}${p.title}`];
  if (p.description) lines.push(quote(p.description));
  lines.push('');
  for (const m of p.meta) lines.push(`${m.name}: <font color="comment">${m.value}</font>`);
  lines.push(`By: <font color="comment">${p.actor}</font>`);
  // Herald's own mentions: <@userid> pings the member
  const mentions = mentionMarkup(activity, (person) => (isMentionable(person.wecomUserId, WECOM_USER_ID) ? `<@${person.wecomUserId}>` : undefined));
  if (mentions.length > 0) lines.push(mentions.join(' '));
  lines.push(`[View in ${brand}](${activity.link})`);
  return lines.join('\n');
}

export const WECOM = defineProvider({
  type: 'WECOM',
  aliases: ['bb.plugin.webhook.wecom'],
  displayName: 'WeCom',
  exampleUrl: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=XXXX',
  hosts: ['qyapi.weixin.qq.com'],
  publicPathPrefixes: ['/cgi-bin/webhook/send'],
  customHeaders: false,
  limits: { contentBytes: WECOM_MAX_CONTENT_BYTES },
  // 20 messages per minute per robot (developer.work.weixin.qq.com/document/path/91770): the robot is its key
  pace: { limits: [{ count: 20, perMs: 60_000 }], sharedBy: (url) => url.searchParams.get('key') ?? undefined },

  render(activity: Activity, hook: WebhookTarget, ctx: RenderContext): OutgoingRequest {
    const parts = fitParts(partsOf(activity), (p) => utf8Length(wecomContent(p, activity, ctx.brand)), WECOM_MAX_CONTENT_BYTES);
    const body = { msgtype: 'markdown', markdown: { content: wecomContent(parts, activity, ctx.brand) } };
    return { url: hook.url, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  },

  judge(response: ProviderResponse, ctx: { now: Date }): Verdict {
    if (response.status !== 200) return judgeStatus(response, ctx.now);
    const { code, reason } = errcodeAnswer(response);
    if (code === undefined) return failed(`${describeResponse(response)} (no errcode)`);
    if (code === 0) return DELIVERED;
    const throttle = throttled(response, ctx.now);
    return throttle ? retry(reason, throttle.until) : failed(reason);
  },

  throttle: (response, ctx) => throttled(response, ctx.now),
});
