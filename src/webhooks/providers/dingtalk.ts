import { createHmac } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Activity, Mention } from '../activity.js';
import { ROBOT_SIGNING_SECRET, defineProvider, type OutgoingRequest, type ProviderResponse, type RenderContext, type Throttle, type Verdict, type WebhookTarget } from './provider.js';
import { type MessageParts, fitParts, mentionMarkup, partsOf, quote } from './text.js';
import { DELIVERED, describeResponse, errcodeAnswer, errcodeThrottle, failed, judgeStatus, retry } from './judging.js';

/** DingTalk refuses robot messages over 20,000 bytes: the JSON body is kept within that. */
export const DINGTALK_MAX_BODY_BYTES = 20_000;
/** errcode 130101 (sending too fast): the robot is throttled for 10 minutes. */
export const DINGTALK_THROTTLE_MS = 10 * 60 * 1000;

/**
 * The number DingTalk mentions a person by: the national number of their phone (DingTalk accounts
 * are keyed by it, as Bytebase reads them), digits only; undefined without a valid phone.
 */
export function dingtalkMobile(person: Pick<Mention, 'phone'>): string | undefined {
  const national = person.phone ? parsePhoneNumberFromString(person.phone)?.nationalNumber : undefined;
  return national && /^\d{4,15}$/.test(national) ? national : undefined;
}

/** `mobiles`: the people mentioned (`@{mobile}` on the last line; the body's `at` makes it a ping). */
export function dingtalkText(p: MessageParts, link: string, brand: string, mobiles: readonly string[] = []): string {
  const lines = [`# ${p.title}`];
  if (p.description) lines.push(quote(p.description));
  for (const m of p.meta) lines.push(`##### **${m.name}:** ${m.value}`);
  lines.push(`##### **By:** ${p.actor}`, `##### [View in ${brand}](${link})`);
  if (mobiles.length > 0) lines.push(mobiles.map((mobile) => `@${mobile}`).join(' '));
  return lines.join('\n');
}

/** Base64(HMAC-SHA256(key = secret, message = "{ms}\n{secret}")), the robot's "加签" signature. */
export function dingtalkSign(secret: string, ms: number): string {
  return createHmac('sha256', secret).update(`${ms}\n${secret}`, 'utf8').digest('base64');
}

/** 130101 (over 20 a minute): the robot takes nothing for 10 minutes (or longer, if Retry-After says so), from any sender. */
const throttled = (response: ProviderResponse, now: Date): Throttle | undefined =>
  errcodeThrottle(response, now, 130101, DINGTALK_THROTTLE_MS);

/** The URL with `timestamp` and `sign` appended when the webhook has a signing secret. */
function signedUrl(url: string, secret: string | undefined, now: Date): string {
  if (!secret) return url;
  const ms = now.getTime();
  const separator = !url.includes('?') ? '?' : url.endsWith('?') || url.endsWith('&') ? '' : '&';
  return `${url}${separator}timestamp=${ms}&sign=${encodeURIComponent(dingtalkSign(secret, ms))}`;
}

export const DINGTALK = defineProvider({
  type: 'DINGTALK',
  aliases: ['bb.plugin.webhook.dingtalk'],
  displayName: 'DingTalk',
  exampleUrl: 'https://oapi.dingtalk.com/robot/send?access_token=XXXX',
  hosts: ['oapi.dingtalk.com', 'api.dingtalk.com'],
  publicPathPrefixes: ['/robot/send'],
  signingSecret: ROBOT_SIGNING_SECRET,
  customHeaders: false,
  limits: { bodyBytes: DINGTALK_MAX_BODY_BYTES },
  // 20 per minute per robot, then 10 minutes of 130101 (open.dingtalk.com, custom robots): the robot is its
  // access_token, whichever host the URL names
  pace: { limits: [{ count: 20, perMs: 60_000 }], sharedBy: (url) => url.searchParams.get('access_token') ?? undefined },

  render(activity: Activity, hook: WebhookTarget, ctx: RenderContext): OutgoingRequest {
    // only Herald's own mentions fill `at` (never isAtAll): a `@…` typed by a user pings no one without it
    const mobiles = mentionMarkup(activity, dingtalkMobile);
    const at = mobiles.length > 0 ? { at: { atMobiles: mobiles, isAtAll: false } } : {};
    const message = (p: MessageParts) => ({ msgtype: 'markdown', markdown: { title: p.title, text: dingtalkText(p, activity.link, ctx.brand, mobiles) }, ...at });
    const size = (p: MessageParts) => Buffer.byteLength(JSON.stringify(message(p)), 'utf8');
    const parts = fitParts(partsOf(activity), size, DINGTALK_MAX_BODY_BYTES);
    return {
      url: signedUrl(hook.url, hook.signingSecrets[0], ctx.now),
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(message(parts)),
    };
  },

  judge(response: ProviderResponse, ctx: { now: Date }): Verdict {
    if (response.status !== 200) return judgeStatus(response, ctx.now);
    const { code, reason } = errcodeAnswer(response);
    if (code === undefined) return failed(`${describeResponse(response)} (no errcode)`);
    if (code === 0) return DELIVERED;
    const throttle = throttled(response, ctx.now);
    if (throttle) return retry(reason, throttle.until);
    // 310000 (keyword missing, signature mismatch, timestamp out of range, IP not allowed) and the rest.
    return failed(reason);
  },

  throttle: (response, ctx) => throttled(response, ctx.now),
});
