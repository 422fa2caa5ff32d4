import type { ProviderResponse } from '../../../src/webhooks/providers/provider.js';
import { messengerFor } from '../../../src/webhooks/direct-messages/messengers.js';

/*
 * How each vendor's answers are read, step by step, as a table: what is sent (ok), tried again
 * later (retry, with the vendor's wait when it names one), answered with a new token
 * (token-expired), or given up for the channel (unreachable). The codes are the vendors' own (see
 * docs/fidelity.md, "Direct messages").
 */

const NOW = new Date('2026-03-01T10:00:00.000Z');
const json = (status: number, body: unknown, headers: Record<string, string> = {}): ProviderResponse => ({ status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

type Step = 'token' | 'lookup' | 'send';
const read = (type: string, step: Step, response: ProviderResponse) => {
  const m = messengerFor(type)!;
  const reading = step === 'token' ? m.token!.read(response, NOW) : step === 'lookup' ? m.readLookup(response, NOW) : m.judge(response, NOW);
  return reading.kind === 'retry' && reading.notBefore ? `retry after ${(reading.notBefore.getTime() - NOW.getTime()) / 1000} s` : reading.kind;
};

const TABLE: [string, Step, ProviderResponse, string][] = [
  ['SLACK', 'lookup', json(200, { ok: true, user: { id: 'U1' } }), 'ok'],
  ['SLACK', 'lookup', json(200, { ok: false, error: 'users_not_found' }), 'unreachable'],
  ['SLACK', 'lookup', json(200, { ok: false, error: 'missing_scope', needed: 'users:read.email' }), 'unreachable'],
  ['SLACK', 'send', json(200, { ok: true }), 'ok'],
  ['SLACK', 'send', json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '30' }), 'retry after 30 s'],
  ['SLACK', 'send', json(200, { ok: false, error: 'internal_error' }), 'retry'],
  ['SLACK', 'send', json(200, { ok: false, error: 'invalid_auth' }), 'unreachable'],
  ['SLACK', 'send', { status: 200, headers: {}, body: '<html>proxy</html>' }, 'retry'],
  ['FEISHU', 'token', json(200, { code: 0, tenant_access_token: 't-1', expire: 7200 }), 'ok'],
  ['FEISHU', 'token', json(200, { code: 10014, msg: 'app secret invalid' }), 'unreachable'],
  ['FEISHU', 'token', json(503, {}), 'retry'],
  ['FEISHU', 'lookup', json(200, { code: 0, data: { user_list: [{ email: 'a@x' }] } }), 'unreachable'],
  ['FEISHU', 'lookup', json(400, { code: 99991663, msg: 'Invalid access token' }), 'token-expired'],
  ['FEISHU', 'lookup', json(400, { code: 99991672, msg: 'Access denied: scope' }), 'unreachable'],
  ['FEISHU', 'send', json(400, { code: 99991677, msg: 'token expired' }), 'token-expired'],
  ['FEISHU', 'send', json(429, { code: 99991400, msg: 'frequency limit' }, { 'x-ogw-ratelimit-reset': '12' }), 'retry after 12 s'],
  ['FEISHU', 'send', json(400, { code: 230013, msg: 'Bot has NO availability to this user.' }), 'unreachable'],
  ['WECOM', 'token', json(200, { errcode: 0, access_token: 'w', expires_in: 7200 }), 'ok'],
  ['WECOM', 'token', json(200, { errcode: 40001, errmsg: 'invalid credential' }), 'unreachable'],
  ['WECOM', 'lookup', json(200, { errcode: 46004, errmsg: 'user not exist' }), 'unreachable'],
  ['WECOM', 'lookup', json(200, { errcode: 42001, errmsg: 'access_token expired' }), 'token-expired'],
  ['WECOM', 'send', json(200, { errcode: 45009, errmsg: 'api freq out of limit' }), 'retry after 60 s'],
  ['WECOM', 'send', json(200, { errcode: 0, errmsg: 'ok', invaliduser: 'bob' }), 'unreachable'],
  ['WECOM', 'send', json(200, { errcode: -1, errmsg: 'system busy' }), 'retry'],
  ['DINGTALK', 'token', json(200, { accessToken: 'd', expireIn: 7200 }), 'ok'],
  ['DINGTALK', 'token', json(400, { code: 'invalidClientIdOrSecret', message: 'bad' }), 'unreachable'],
  ['DINGTALK', 'lookup', json(200, { errcode: 60121, errmsg: '找不到该用户' }), 'unreachable'],
  ['DINGTALK', 'lookup', json(200, { errcode: 40014, errmsg: '不合法的access_token' }), 'token-expired'],
  // the old API's 88 wraps a refusal: the token only when its sub_code says so
  ['DINGTALK', 'lookup', json(200, { errcode: 88, sub_code: '42001', sub_msg: 'access_token过期', errmsg: 'ding talk error[subcode=42001]' }), 'token-expired'],
  ['DINGTALK', 'lookup', json(200, { errcode: 88, sub_code: '60011', sub_msg: '没有调用该接口的权限', errmsg: 'ding talk error[subcode=60011,submsg=没有调用该接口的权限]' }), 'unreachable'],
  ['DINGTALK', 'send', json(401, { code: 'InvalidAuthentication', message: '不合法的access_token' }), 'token-expired'],
  ['DINGTALK', 'send', json(403, { code: 'Forbidden.AccessDenied.QpsLimitForApi', message: '流控' }), 'retry after 60 s'],
  ['DINGTALK', 'send', json(200, { processQueryKey: 'q', invalidStaffIdList: ['u1'], flowControlledStaffIdList: [] }), 'unreachable'],
  ['DINGTALK', 'send', json(200, { processQueryKey: 'q', invalidStaffIdList: [], flowControlledStaffIdList: ['u1'] }), 'retry after 60 s'],
  ['TEAMS', 'token', json(200, { token_type: 'Bearer', expires_in: 3599, access_token: 'eyJ' }), 'ok'],
  ['TEAMS', 'token', json(401, { error: 'invalid_client', error_description: 'AADSTS7000215' }), 'unreachable'],
  ['TEAMS', 'lookup', json(200, { value: [] }), 'unreachable'],
  ['TEAMS', 'lookup', json(404, { error: { code: 'Request_ResourceNotFound' } }), 'unreachable'],
  ['TEAMS', 'lookup', json(401, { error: { code: 'InvalidAuthenticationToken' } }), 'token-expired'],
  ['TEAMS', 'send', json(201, { id: 'a1' }), 'ok'],
  ['TEAMS', 'send', json(429, {}, { 'retry-after': '7' }), 'retry after 7 s'],
  ['TEAMS', 'send', json(403, { error: { code: 'BotNotInConversationRoster' } }), 'unreachable'],
];

describe('reading the vendors’ answers to a direct message', () => {
  it.each(TABLE.map(([type, step, response, expected]) => [type, step, response.status, response.body, expected, response]))('%s %s: %s %s → %s', (type, step, _status, _body, expected, response) => {
    expect(read(type as string, step as Step, response as ProviderResponse)).toBe(expected);
  });

  it('gives a token the life the vendor says', () => {
    const token = messengerFor('FEISHU')!.token!.read(json(200, { code: 0, tenant_access_token: 't-1', expire: 1800 }), NOW);
    expect(token).toEqual({ kind: 'ok', value: { token: 't-1', expiresAt: NOW.getTime() + 1_800_000 } });
  });
});
