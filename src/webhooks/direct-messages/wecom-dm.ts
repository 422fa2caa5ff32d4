import { WECOM_USER_ID, isMentionable } from '../../users/contact-handles.js';
import { describeResponse, numericCode, throttleOf429, throttleUntil } from '../providers/judging.js';
import type { ProviderResponse } from '../providers/provider.js';
import { WECOM, WECOM_THROTTLE_MS } from '../providers/wecom.js';
import { at, type DirectMessenger, type Reading } from './messenger.js';
import { accessTokenOf, ok, readAnswer } from './readings.js';

/*
 * WeCom's server API (developer.work.weixin.qq.com/document/path/90664, 91039, 90236, 95895):
 * cgi-bin/gettoken (GET, corpid and the app's corpsecret) gives an access_token for
 * `expires_in` seconds (7200); the token rides in the query of every call. A person is the
 * userid they set, else user/get_userid_by_email; message/send sends the app's markdown to them
 * (`agentid`). Not with enable_duplicate_check: WeCom would drop a second, legitimate message of the
 * same content (an approval asked again) within the interval; it knows no key of ours.
 */

/** The access_token is missing, invalid or expired. */
const TOKEN_CODES = new Set([41001, 40014, 42001]);
/** Frequency limits: try again after a minute. */
const RATE_CODES = new Set([45009, 45033]);
/** System busy. */
const TRANSIENT_CODES = new Set([-1]);

function reading(response: ProviderResponse, now: Date, what: string): Reading<Record<string, unknown>> {
  const answer = readAnswer(response, now);
  if ('reading' in answer) return answer.reading;
  const code = numericCode(answer.json.errcode);
  const reason = `${what}: ${code === undefined ? describeResponse(response) : `errcode ${code}: ${String(answer.json.errmsg ?? '')}`}`;
  if (code === 0) return ok(answer.json);
  if (code !== undefined && RATE_CODES.has(code)) return { kind: 'retry', reason, notBefore: new Date(now.getTime() + WECOM_THROTTLE_MS) };
  if (code !== undefined && TOKEN_CODES.has(code)) return { kind: 'token-expired', reason };
  if (code === undefined || TRANSIENT_CODES.has(code)) return { kind: 'retry', reason };
  // 40013/40001 (corp id or secret), 46004 (nobody by that email), 60020 (Herald's address not trusted), 48002 (no permission), 81013 (nobody to send to)…
  return { kind: 'unreachable', reason };
}

const NO_HOOK = { id: 0, type: 'WECOM', name: '', url: 'https://qyapi.weixin.qq.com/', signingSecrets: [], headers: {} };
const base = (apiBase: string | null) => apiBase ?? 'https://qyapi.weixin.qq.com';
const withToken = (url: string, token: string) => `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`;
const JSON_TYPE = { 'Content-Type': 'application/json; charset=utf-8' };

export const WECOM_DM: DirectMessenger = {
  type: 'WECOM',
  token: {
    request: (app) => ({
      method: 'GET',
      url: `${at(base(app.apiBase), '/cgi-bin/gettoken')}?corpid=${encodeURIComponent(app.credentials.corpId)}&corpsecret=${encodeURIComponent(app.credentials.secret)}`,
      headers: {},
      body: '',
    }),
    read(response, now) {
      return accessTokenOf(reading(response, now, 'gettoken'), response, now, 'gettoken', { token: 'access_token', expiresIn: 'expires_in', defaultSeconds: 7200 });
    },
  },
  bearer: (_app, token) => token ?? '',
  handle: (person) => (isMentionable(person.wecomUserId, WECOM_USER_ID) ? person.wecomUserId : undefined),
  lookupKey: (person) => (person.email ? person.email : undefined),
  lookup: (app, token, email) => ({
    url: withToken(at(base(app.apiBase), '/cgi-bin/user/get_userid_by_email'), token),
    headers: JSON_TYPE,
    body: JSON.stringify({ email, email_type: 1 }),
  }),
  readLookup(response, now) {
    const read = reading(response, now, 'get_userid_by_email');
    if (read.kind !== 'ok') return read;
    return typeof read.value.userid === 'string' && read.value.userid ? ok(read.value.userid) : { kind: 'unreachable', reason: 'get_userid_by_email: no userid' };
  },
  render(activity, userId, app, token, ctx) {
    const { markdown } = JSON.parse(WECOM.render({ ...activity, mentions: undefined, directMessage: undefined }, NO_HOOK, { ...ctx, version: '' }).body) as { markdown: { content: string } };
    return {
      url: withToken(at(base(app.apiBase), '/cgi-bin/message/send'), token),
      headers: JSON_TYPE,
      body: JSON.stringify({ touser: userId, msgtype: 'markdown', agentid: Number(app.credentials.agentId), markdown }),
    };
  },
  judge(response, now) {
    const read = reading(response, now, 'message/send');
    if (read.kind !== 'ok') return read;
    // accepted, but not for this person: outside the app's visible range, or gone
    if (typeof read.value.invaliduser === 'string' && read.value.invaliduser !== '') return { kind: 'unreachable', reason: `message/send: invaliduser ${read.value.invaliduser}` };
    return ok(undefined);
  },
  throttle(response, now) {
    const answer = readAnswer(response, now);
    const code = 'json' in answer ? numericCode(answer.json.errcode) : undefined;
    if (code !== undefined && RATE_CODES.has(code)) return throttleUntil(`WeCom API: errcode ${code}`, now, new Date(now.getTime() + WECOM_THROTTLE_MS));
    return throttleOf429(response, now);
  },
};
