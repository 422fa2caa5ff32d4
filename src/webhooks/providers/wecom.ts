import type { Activity } from '../activity.js';
import { WECOM_USER_ID, isMentionable } from '../../users/contact-handles.js';
import { defineProvider, type OutgoingRequest, type ProviderResponse, type RenderContext, type Verdict, type WebhookTarget } from './provider.js';
import { type MessageParts, WECOM_STATUS, breakMarkup, fitParts, mapParts, mentionMarkup, partsOf, quote, utf8Length } from './text.js';
import { DELIVERED, describeResponse, failed, jsonObject, judgeStatus, later, numericCode, retry, retryAfterOf } from './judging.js';

/** WeCom refuses markdown content over 4,096 bytes of UTF-8. */
export const WECOM_MAX_CONTENT_BYTES = 4096;
/** errcode 45009 (rate limited): try again after a minute. */
export const WECOM_THROTTLE_MS = 60 * 1000;

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
  pace: [{ count: 20, perMs: 60_000 }],

  render(activity: Activity, hook: WebhookTarget, ctx: RenderContext): OutgoingRequest {
    const parts = fitParts(partsOf(activity), (p) => utf8Length(wecomContent(p, activity, ctx.brand)), WECOM_MAX_CONTENT_BYTES);
    const body = { msgtype: 'markdown', markdown: { content: wecomContent(parts, activity, ctx.brand) } };
    return { url: hook.url, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  },

  judge(response: ProviderResponse, ctx: { now: Date }): Verdict {
    if (response.status !== 200) return judgeStatus(response, ctx.now);
    const body = jsonObject(response.body);
    const code = numericCode(body?.errcode);
    if (code === undefined) return failed(`${describeResponse(response)} (no errcode)`);
    if (code === 0) return DELIVERED;
    const reason = typeof body?.errmsg === 'string' && body.errmsg !== '' ? body.errmsg : `errcode ${code}`;
    if (code === 45009) return retry(reason, later(new Date(ctx.now.getTime() + WECOM_THROTTLE_MS), retryAfterOf(response, ctx.now)));
    return failed(reason);
  },
});
