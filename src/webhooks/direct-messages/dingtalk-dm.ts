import { describeResponse, jsonObject, numericCode, throttleOf429 } from '../providers/judging.js';
import { DINGTALK, dingtalkMobile } from '../providers/dingtalk.js';
import type { ProviderResponse } from '../providers/provider.js';
import { at, type DirectMessenger, type Reading } from './messenger.js';
import { accessTokenOf, ok, readAnswer } from './readings.js';

/*
 * DingTalk's open API (open.dingtalk.com, internal apps): v1.0/oauth2/accessToken ({appKey,
 * appSecret} -> accessToken, expireIn seconds) on api.dingtalk.com; a person is found by the
 * national number of their phone with topapi/v2/user/getbymobile on oapi.dingtalk.com (the
 * token in the query: errcode 60121 is nobody); v1.0/robot/oToMessages/batchSend has the app's
 * robot send them a sampleMarkdown (the token in x-acs-dingtalk-access-token). An API base set
 * for the app serves every path (a proxy, an emulator).
 */

/**
 * The new API's codes for a bad or expired token; the old API's errcodes (40014 invalid, 42001
 * expired). The old API's errcode 88 wraps any refusal ("鉴权异常"): only its sub_code says
 * whether the token is the cause (60011, no permission for the API, is the app's scope).
 */
const TOKEN_CODES = new Set(['InvalidAuthentication', 'InvalidAccessToken']);
const TOKEN_ERRCODES = new Set([40014, 42001]);
const WRAPPED = 88;
/** The new API's throttling codes; the old API's flow-control errcodes. */
const isThrottled = (code: string) => /throttl|qpslimit|flowcontrol/i.test(code);
const RATE_ERRCODES = new Set([90018, 90002, 130101]);

function reading(response: ProviderResponse, now: Date, what: string): Reading<Record<string, unknown>> {
  const body = jsonObject(response.body);
  const code = typeof body?.code === 'string' ? body.code : undefined;
  const errcode = numericCode(body?.errcode);
  const subCode = errcode === WRAPPED ? numericCode(body?.sub_code) : undefined;
  const said = subCode !== undefined ? `errcode ${errcode} (sub_code ${subCode}): ${String(body?.sub_msg ?? body?.errmsg ?? '')}` : `errcode ${errcode}: ${String(body?.errmsg ?? '')}`;
  const reason = `${what}: ${code ? `${code}: ${String(body?.message ?? '')}` : errcode !== undefined ? said : describeResponse(response)}`;
  const tokenCode = errcode === WRAPPED ? subCode : errcode;
  if ((code && TOKEN_CODES.has(code)) || (tokenCode !== undefined && TOKEN_ERRCODES.has(tokenCode))) return { kind: 'token-expired', reason };
  if ((code && isThrottled(code)) || (errcode !== undefined && RATE_ERRCODES.has(errcode))) return { kind: 'retry', reason, notBefore: new Date(now.getTime() + 60_000) };
  const answer = readAnswer(response, now);
  if ('reading' in answer) return (code || errcode) && answer.reading.kind === 'unreachable' ? { kind: 'unreachable', reason } : answer.reading;
  if (errcode !== undefined && errcode !== 0) return errcode === -1 ? { kind: 'retry', reason } : { kind: 'unreachable', reason };
  return ok(answer.json);
}

const NO_HOOK = { id: 0, type: 'DINGTALK', name: '', url: 'https://oapi.dingtalk.com/robot/send', signingSecrets: [], headers: {} };
const JSON_TYPE = { 'Content-Type': 'application/json' };

export const DINGTALK_DM: DirectMessenger = {
  type: 'DINGTALK',
  token: {
    request: (app) => ({
      url: at(app.apiBase ?? 'https://api.dingtalk.com', '/v1.0/oauth2/accessToken'),
      headers: JSON_TYPE,
      body: JSON.stringify({ appKey: app.credentials.clientId, appSecret: app.credentials.clientSecret }),
    }),
    read(response, now) {
      return accessTokenOf(reading(response, now, 'oauth2/accessToken'), response, now, 'oauth2/accessToken', { token: 'accessToken', expiresIn: 'expireIn', defaultSeconds: 7200 });
    },
  },
  bearer: (_app, token) => token ?? '',
  handle: () => undefined,
  // as Bytebase since its #20595: the national number of the phone the person set
  lookupKey: (person) => dingtalkMobile(person),
  lookup: (app, token, mobile) => ({
    url: `${at(app.apiBase ?? 'https://oapi.dingtalk.com', '/topapi/v2/user/getbymobile')}?access_token=${encodeURIComponent(token)}`,
    headers: JSON_TYPE,
    body: JSON.stringify({ mobile }),
  }),
  readLookup(response, now) {
    const read = reading(response, now, 'getbymobile');
    if (read.kind !== 'ok') return read.kind === 'unreachable' && /errcode 60121/.test(read.reason) ? { kind: 'unreachable', reason: `${read.reason} (nobody has this phone)` } : read;
    const userid = (read.value.result as { userid?: unknown } | undefined)?.userid;
    return typeof userid === 'string' && userid ? ok(userid) : { kind: 'unreachable', reason: 'getbymobile: no userid' };
  },
  render(activity, userId, app, token, ctx) {
    const { markdown } = JSON.parse(DINGTALK.render({ ...activity, mentions: undefined, directMessage: undefined }, NO_HOOK, { ...ctx, version: '' }).body) as { markdown: { title: string; text: string } };
    return {
      url: at(app.apiBase ?? 'https://api.dingtalk.com', '/v1.0/robot/oToMessages/batchSend'),
      headers: { ...JSON_TYPE, 'x-acs-dingtalk-access-token': token },
      body: JSON.stringify({ robotCode: app.credentials.robotCode, userIds: [userId], msgKey: 'sampleMarkdown', msgParam: JSON.stringify(markdown) }),
    };
  },
  judge(response, now) {
    const read = reading(response, now, 'oToMessages/batchSend');
    if (read.kind !== 'ok') return read;
    const list = (name: string) => (Array.isArray(read.value[name]) ? (read.value[name] as unknown[]) : []);
    if (list('flowControlledStaffIdList').length > 0) return { kind: 'retry', reason: 'oToMessages/batchSend: flow controlled', notBefore: new Date(now.getTime() + 60_000) };
    if (list('invalidStaffIdList').length > 0) return { kind: 'unreachable', reason: 'oToMessages/batchSend: invalidStaffIdList (not in the app’s range)' };
    return ok(undefined);
  },
  throttle: (response, now) => throttleOf429(response, now),
};
