import { afterSeconds, describeResponse, header, jsonObject, throttleOf429, throttleUntil } from '../providers/judging.js';
import { FEISHU, LARK } from '../providers/feishu.js';
import type { ProviderResponse } from '../providers/provider.js';
import type { ImAppType } from './im-app-types.js';
import { at, type DirectMessenger, type Reading } from './messenger.js';
import { accessTokenOf, ok, readAnswer } from './readings.js';

/*
 * Feishu and Lark's Open Platform (open.feishu.cn / open.larksuite.com, server API docs): the
 * same API on two hosts. tenant_access_token/internal gives a token for 2 hours (`expire`, in
 * seconds); contact/v3/users/batch_get_id finds a person's open_id by email (scope
 * contact:user.id:readonly); im/v1/messages sends them the card (scope im:message:send_as_bot),
 * `uuid` making a repeat within an hour a no-op.
 */

/** The token is missing, invalid or expired. */
const TOKEN_CODES = new Set([99991661, 99991663, 99991668, 99991677]);
/** Request frequency limits (the gateway's, and the message API's). */
const RATE_CODES = new Set([99991400, 230020]);
/** Transient on the vendor's side. */
const TRANSIENT_CODES = new Set([1, 2200, 99991401, 230001]);

function reading(response: ProviderResponse, now: Date, what: string): Reading<Record<string, unknown>> {
  // Feishu answers a bad token or a limit with a code, whatever the HTTP status (400, 429)
  const body = jsonObject(response.body);
  const code = typeof body?.code === 'number' ? body.code : undefined;
  const reason = `${what}: ${body && typeof body.msg === 'string' ? `code ${code}: ${body.msg}` : describeResponse(response)}`;
  if (code !== undefined && RATE_CODES.has(code)) return { kind: 'retry', reason, notBefore: rateReset(response, now) };
  if (code !== undefined && TOKEN_CODES.has(code)) return { kind: 'token-expired', reason };
  const answer = readAnswer(response, now);
  if ('reading' in answer) return code !== undefined && answer.reading.kind === 'unreachable' ? { kind: 'unreachable', reason } : answer.reading;
  if (code === 0) return ok(answer.json);
  if (code !== undefined && TRANSIENT_CODES.has(code)) return { kind: 'retry', reason };
  // 10003/10014 (app id or secret), 99991672 (a scope missing), 230013 (the person is outside the app's availability)…
  return { kind: 'unreachable', reason };
}

/** When the gateway's limit resets (x-ogw-ratelimit-reset, seconds); undefined when it does not say. */
const rateReset = (response: ProviderResponse, now: Date) => afterSeconds(Number(header(response, 'x-ogw-ratelimit-reset')), now);

const NO_HOOK = { id: 0, name: '', url: 'https://open.feishu.cn/', signingSecrets: [], headers: {} };

function feishuLikeDm(type: Extract<ImAppType, 'FEISHU' | 'LARK'>, host: string): DirectMessenger {
  const provider = type === 'FEISHU' ? FEISHU : LARK;
  const base = (apiBase: string | null) => apiBase ?? host;
  const json = (bearer: string) => ({ 'Content-Type': 'application/json; charset=utf-8', Authorization: `Bearer ${bearer}` });
  return {
    type,
    token: {
      request: (app) => ({
        url: at(base(app.apiBase), '/open-apis/auth/v3/tenant_access_token/internal'),
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ app_id: app.credentials.appId, app_secret: app.credentials.appSecret }),
      }),
      read(response, now) {
        return accessTokenOf(reading(response, now, 'tenant_access_token'), response, now, 'tenant_access_token', { token: 'tenant_access_token', expiresIn: 'expire', defaultSeconds: 7200 });
      },
    },
    bearer: (_app, token) => token ?? '',
    handle: () => undefined,
    lookupKey: (person) => (person.email ? person.email : undefined),
    lookup: (app, bearer, email) => ({
      url: at(base(app.apiBase), '/open-apis/contact/v3/users/batch_get_id?user_id_type=open_id'),
      headers: json(bearer),
      body: JSON.stringify({ emails: [email] }),
    }),
    readLookup(response, now) {
      const read = reading(response, now, 'batch_get_id');
      if (read.kind !== 'ok') return read;
      const list = ((read.value.data as { user_list?: { user_id?: unknown }[] } | undefined)?.user_list ?? []).map((u) => u.user_id);
      const id = list.find((u): u is string => typeof u === 'string' && u !== '');
      return id ? ok(id) : { kind: 'unreachable', reason: `batch_get_id: nobody in the tenant has this email (or the app cannot see them)` };
    },
    render(activity, openId, app, bearer, ctx) {
      const rendered = JSON.parse(provider.render({ ...activity, mentions: undefined, directMessage: undefined }, { ...NO_HOOK, type }, { ...ctx, version: '' }).body) as { card: object };
      return {
        url: at(base(app.apiBase), '/open-apis/im/v1/messages?receive_id_type=open_id'),
        headers: json(bearer),
        // uuid: Feishu sends one message per uuid within an hour (a repeat after a crash is not a second DM; a redelivery is)
        body: JSON.stringify({ receive_id: openId, msg_type: 'interactive', content: JSON.stringify(rendered.card), uuid: messageKey(ctx.deliveryId, ctx.requeued) }),
      };
    },
    judge(response, now) {
      const read = reading(response, now, 'im/v1/messages');
      return read.kind === 'ok' ? ok(undefined) : read;
    },
    throttle(response, now) {
      const code = jsonObject(response.body)?.code;
      if (typeof code === 'number' && RATE_CODES.has(code)) return throttleUntil(`${type} API: code ${code}`, now, rateReset(response, now));
      return throttleOf429(response, now);
    },
  };
}

export const FEISHU_DM = feishuLikeDm('FEISHU', 'https://open.feishu.cn');
export const LARK_DM = feishuLikeDm('LARK', 'https://open.larksuite.com');

/** Feishu's `uuid` (at most 50 characters): the delivery's id, and its requeue when it was redelivered. */
const messageKey = (deliveryId: string, requeued = 0) => (requeued > 0 ? `${deliveryId.slice(0, 38)}-r${requeued}` : deliveryId.slice(0, 50));
