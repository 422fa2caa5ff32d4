import { createHmac } from 'node:crypto';
import type { Activity } from '../activity.js';
import { defineProvider, type OutgoingRequest, type ProviderResponse, type RenderContext, type Verdict, type WebhookTarget } from './provider.js';
import { DELIVERED, describeResponse, failed, isSuccess, jsonObject, judgeStatus, retry, retryAfterOf } from './judging.js';

/** The seed's body, keys in the seed's order. */
export function customBody(activity: Activity) {
  const { issue } = activity;
  return {
    level: activity.level,
    activity_type: activity.type,
    title: activity.title,
    description: activity.description,
    link: activity.link,
    creator_id: activity.actor.id,
    creator_name: activity.actor.name,
    created_ts: activity.createdTs,
    issue: issue ? { id: issue.id, name: issue.name, status: issue.status, type: issue.type, description: issue.description } : null,
    project: { id: activity.project.id, name: activity.project.name },
  };
}

/**
 * Standard Webhooks signature of one secret: `v1,` + Base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
 * the key being the Base64 after the `whsec_` prefix.
 */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`;
}

/** Headers the operator's custom headers can never set: ours, and those that belong to the HTTP client. */
// traceparent and tracestate: the attempt's trace context (when tracing is on), never a configured value
const RESERVED = new Set(['content-type', 'content-length', 'host', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'traceparent', 'tracestate']);
const isReserved = (name: string) => RESERVED.has(name.toLowerCase()) || name.toLowerCase().startsWith('webhook-');
/** RFC 9110 token characters; values must not contain CR, LF or NUL (header injection). */
const VALID_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VALID_VALUE = /^[^\r\n\0]*$/;

export const CUSTOM = defineProvider({
  type: 'CUSTOM',
  aliases: ['bb.plugin.webhook.custom'],
  displayName: 'Custom',
  exampleUrl: 'https://receiver.example.com/herald',
  hosts: [],
  signingSecret: {
    description: 'a Standard Webhooks secret (whsec_ followed by a base64 key of 24 to 64 bytes)',
    check(secret) {
      const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.alloc(0);
      return key.length >= 24 && key.length <= 64 ? undefined : 'must be whsec_ followed by a base64 key of 24 to 64 bytes';
    },
  },
  answerRule: 'Any 2xx answer counts as delivered, unless its body is JSON with a code other than 0: then the delivery is retried and its message recorded. 410 disables the webhook; 408, 429 and 5xx are retried; other answers fail.',
  customHeaders: true,
  limits: {},
  // no limit known; a 429 with Retry-After still makes every webhook posting to that URL wait
  pace: { limits: [] },

  render(activity: Activity, hook: WebhookTarget, ctx: RenderContext): OutgoingRequest {
    const body = JSON.stringify(customBody(activity));
    const timestamp = Math.floor(ctx.now.getTime() / 1000);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': `Herald-Webhook/${ctx.version}`,
      'webhook-id': ctx.deliveryId,
      'webhook-timestamp': String(timestamp),
    };
    if (hook.signingSecrets.length > 0) {
      headers['webhook-signature'] = hook.signingSecrets.map((secret) => standardSignature(secret, ctx.deliveryId, timestamp, body)).join(' ');
    }
    for (const [name, value] of Object.entries(hook.headers)) {
      if (!VALID_NAME.test(name) || !VALID_VALUE.test(value) || isReserved(name)) continue;
      // Replace ours (User-Agent) whatever the case of the name, so a header is never sent twice.
      for (const existing of Object.keys(headers)) if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
      headers[name] = value;
    }
    return { url: hook.url, headers, body };
  },

  /**
   * Any 2xx is delivered unless its body is JSON whose `code` is present and not 0 (or "0"): then
   * the receiver said "not now" and the attempt is retried with its `message` as the reason. Bytebase
   * decoded the answer into `{code int}`, where a missing code is 0, so receivers written for it
   * answer `{}`, `{"status":"ok"}`, `null` or plain text and mean success.
   */
  judge(response: ProviderResponse, ctx: { now: Date }): Verdict {
    const { status } = response;
    if (isSuccess(status)) {
      const json = jsonObject(response.body);
      if (!json || json.code === undefined || json.code === null || json.code === 0 || json.code === '0') return DELIVERED;
      const message = typeof json.message === 'string' && json.message !== '' ? json.message : `code ${JSON.stringify(json.code)}`;
      return retry(message, retryAfterOf(response, ctx.now));
    }
    if (status === 408 || status === 425) return retry(describeResponse(response), retryAfterOf(response, ctx.now));
    // 3xx failed, 410 failed + disable, 429/5xx retry (Retry-After), other 4xx failed.
    return judgeStatus(response, ctx.now);
  },
});
