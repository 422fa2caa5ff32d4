import type { ProviderAdapter, Verdict } from '../../../src/webhooks/providers/provider.js';
import { PROVIDERS } from '../../../src/webhooks/providers/registry.js';
import { NOW, at, response } from './activities.js';

/* How each provider's answers are judged (providers.md), with exact times from a fixed now. */

const judge = (adapter: ProviderAdapter, status: number, body = '', headers: Record<string, string> = {}): Verdict => adapter.judge(response(status, body, headers), { now: NOW });
const json = (value: unknown) => JSON.stringify(value);
const HOUR = 3600 * 1000;

const { SLACK, DISCORD, TEAMS, DINGTALK, FEISHU, LARK, WECOM, CUSTOM } = PROVIDERS;

describe('Slack', () => {
  it('200 ok → delivered', () => {
    expect(judge(SLACK, 200, 'ok')).toEqual({ kind: 'delivered' });
  });

  it('429 → retry after Retry-After', () => {
    expect(judge(SLACK, 429, 'rate_limited', { 'retry-after': '30' })).toEqual({ kind: 'retry', reason: expect.stringContaining('429'), notBefore: at(30_000) });
  });

  it('429 without Retry-After → retry with no time of its own', () => {
    const verdict = judge(SLACK, 429, 'rate_limited');
    expect(verdict.kind).toBe('retry');
    expect(verdict).not.toHaveProperty('notBefore');
  });

  it.each([500, 502, 503, 504])('%i → retry', (status) => {
    expect(judge(SLACK, status, 'internal_error').kind).toBe('retry');
  });

  it('503 with Retry-After → retry not before it', () => {
    expect(judge(SLACK, 503, '', { 'retry-after': '120' })).toMatchObject({ kind: 'retry', notBefore: at(120_000) });
  });

  it('400 invalid_payload → failed (our bug), endpoint kept', () => {
    const verdict = judge(SLACK, 400, 'invalid_payload');
    expect(verdict).toEqual({ kind: 'failed', reason: expect.stringContaining('invalid_payload') });
    expect(verdict).not.toHaveProperty('disable');
  });

  it.each([
    [403, 'action_prohibited'],
    [404, 'channel_not_found'],
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ])('%i %s → failed, endpoint gone (disable)', (status, error) => {
    expect(judge(SLACK, status, error)).toEqual({ kind: 'failed', reason: expect.stringContaining(error), disable: true });
  });

  it('other 4xx → failed without disabling', () => {
    expect(judge(SLACK, 400, 'no_text')).toEqual({ kind: 'failed', reason: expect.stringContaining('no_text') });
    expect(judge(SLACK, 403, 'invalid_token').kind).toBe('failed');
  });

  it('3xx → failed (redirects are not followed)', () => {
    expect(judge(SLACK, 302, '', { location: 'https://elsewhere.example.com' })).toEqual({ kind: 'failed', reason: expect.stringContaining('redirect') });
  });
});

describe('Discord', () => {
  it.each([204, 200])('%i → delivered', (status) => {
    expect(judge(DISCORD, status, status === 200 ? json({ id: '1' }) : '')).toEqual({ kind: 'delivered' });
  });

  it('429 → retry after the body retry_after (fractional seconds)', () => {
    const body = json({ message: 'You are being rate limited.', retry_after: 1.5, global: false });
    expect(judge(DISCORD, 429, body)).toEqual({ kind: 'retry', reason: expect.stringContaining('429'), notBefore: at(1500) });
  });

  it('429 → retry after the Retry-After header', () => {
    expect(judge(DISCORD, 429, '', { 'retry-after': '7' })).toMatchObject({ kind: 'retry', notBefore: at(7000) });
  });

  it('429 with both → the later of the two', () => {
    expect(judge(DISCORD, 429, json({ retry_after: 64.57 }), { 'retry-after': '65' })).toMatchObject({ notBefore: at(65_000) });
    expect(judge(DISCORD, 429, json({ retry_after: 64.57 }), { 'retry-after': '2' })).toMatchObject({ notBefore: at(64_570) });
  });

  it('429 with an absurd retry_after → at most 24 h ahead', () => {
    expect(judge(DISCORD, 429, json({ retry_after: 10_000_000 }))).toMatchObject({ notBefore: at(24 * HOUR) });
  });

  it.each([500, 502])('%i → retry', (status) => {
    expect(judge(DISCORD, status).kind).toBe('retry');
  });

  it.each([401, 403, 404])('%i → failed', (status) => {
    expect(judge(DISCORD, status, json({ message: 'Unknown Webhook', code: 10015 }))).toEqual({ kind: 'failed', reason: expect.stringContaining(String(status)) });
  });

  it('400 (a bad embed) → failed', () => {
    expect(judge(DISCORD, 400, json({ embeds: ['0'] })).kind).toBe('failed');
  });
});

describe('Teams', () => {
  it('legacy connector: 200 with body 1 → delivered', () => {
    expect(judge(TEAMS, 200, '1')).toEqual({ kind: 'delivered' });
  });

  const wrapped = (code: number) => `Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error ${code} with ContextId tcid=0,server=msgapi`;

  it.each([413, 400, 403, 404])('legacy connector: 200 wrapping HTTP error %i → failed', (code) => {
    const verdict = judge(TEAMS, 200, wrapped(code));
    expect(verdict).toEqual({ kind: 'failed', reason: expect.stringContaining(`Microsoft Teams endpoint returned HTTP error ${code}`) });
  });

  it.each([429, 500, 502, 503])('legacy connector: 200 wrapping HTTP error %i → retry, after Retry-After when given', (code) => {
    expect(judge(TEAMS, 200, wrapped(code))).toEqual({ kind: 'retry', reason: expect.stringContaining(`HTTP error ${code}`) });
    expect(judge(TEAMS, 200, wrapped(code), { 'retry-after': '30' })).toMatchObject({ kind: 'retry', notBefore: at(30_000) });
  });

  it('legacy connector: 200 with an error text naming no code → failed', () => {
    expect(judge(TEAMS, 200, 'Summary or Text is required.').kind).toBe('delivered');
    expect(judge(TEAMS, 200, 'Webhook message delivery failed').kind).toBe('failed');
  });

  it.each([
    [202, ''],
    [200, ''],
    [201, json({ ok: true })],
  ])('Workflows: %i → delivered', (status, body) => {
    expect(judge(TEAMS, status, body)).toEqual({ kind: 'delivered' });
  });

  it('429 → retry after Retry-After', () => {
    expect(judge(TEAMS, 429, '', { 'retry-after': '3' })).toMatchObject({ kind: 'retry', notBefore: at(3000) });
  });

  it.each([500, 503])('%i → retry', (status) => {
    expect(judge(TEAMS, status).kind).toBe('retry');
  });

  it.each([400, 401, 403, 404, 413])('%i → failed', (status) => {
    expect(judge(TEAMS, status, 'Bad payload').kind).toBe('failed');
  });

  const CONNECTOR = 'https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456';
  const OLD_CONNECTOR = 'https://outlook.office.com/webhook/abc@def/IncomingWebhook/123/456';
  const LOGIC_APPS = 'https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s';
  const TODAY = 'https://default0a1b2c.d3.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?sig=s';
  const judgeAt = (url: string, status: number, body = '') => TEAMS.judge(response(status, body), { now: NOW, url });

  it.each([
    [CONNECTOR, /Office 365 connector URLs are retired/],
    [OLD_CONNECTOR, /Office 365 connector URLs are retired/],
    [LOGIC_APPS, /Workflows URLs on \*\.logic\.azure\.com are retired/],
  ])('a refusal from a retired URL kind (%s) says the kind is retired and what to use instead', (url, why) => {
    for (const status of [401, 403, 404, 410]) {
      const verdict = judgeAt(url, status, 'Not Found');
      expect(verdict.kind).toBe('failed');
      expect(verdict.kind === 'failed' && verdict.reason).toMatch(why);
      expect(verdict.kind === 'failed' && verdict.reason).toContain('*.environment.api.powerplatform.com');
      expect(verdict.kind === 'failed' && verdict.reason).toContain(`HTTP ${status}`);
    }
    // a connector may wrap the refusal in a 200
    expect(judgeAt(url, 200, wrapped(404))).toMatchObject({ kind: 'failed', reason: expect.stringMatching(why) });
    // a 410 still disables the webhook
    expect(judgeAt(url, 410)).toMatchObject({ disable: true });
  });

  it('says nothing of retirement for a Workflows URL of today’s kind, nor for answers that are not a refusal', () => {
    expect(judgeAt(TODAY, 404, 'Not Found')).toEqual({ kind: 'failed', reason: 'HTTP 404: Not Found' });
    expect(judgeAt(CONNECTOR, 413, 'Too large')).toEqual({ kind: 'failed', reason: 'HTTP 413: Too large' });
    expect(judgeAt(CONNECTOR, 200, '1')).toEqual({ kind: 'delivered' });
    expect(judgeAt(LOGIC_APPS, 503).kind).toBe('retry');
  });

  it.each([
    [CONNECTOR, 'TEAMS_O365_CONNECTOR'],
    [OLD_CONNECTOR, 'TEAMS_O365_CONNECTOR'],
    ['https://outlook.office365.com/webhook/x', 'TEAMS_O365_CONNECTOR'],
    [LOGIC_APPS, 'TEAMS_WORKFLOWS_LOGIC_APPS'],
    [TODAY, undefined],
  ])('tells the URL kind of %s: %s', (url, kind) => {
    expect(TEAMS.retiredUrl!(new URL(url))?.kind).toBe(kind);
  });
});

describe('DingTalk', () => {
  it('200 errcode 0 → delivered', () => {
    expect(judge(DINGTALK, 200, json({ errcode: 0, errmsg: 'ok' }))).toEqual({ kind: 'delivered' });
  });

  it('200 errcode 310000 → failed with errmsg', () => {
    expect(judge(DINGTALK, 200, json({ errcode: 310000, errmsg: 'keywords not in content' }))).toEqual({ kind: 'failed', reason: 'keywords not in content' });
  });

  it('200 errcode 130101 → retry not before now + 10 minutes', () => {
    expect(judge(DINGTALK, 200, json({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' }))).toEqual({
      kind: 'retry',
      reason: 'send too fast, exceed 20 times per minute',
      notBefore: at(10 * 60 * 1000),
    });
  });

  it('200 other non-zero errcode → failed with errmsg', () => {
    expect(judge(DINGTALK, 200, json({ errcode: 300001, errmsg: 'token is not exist' }))).toEqual({ kind: 'failed', reason: 'token is not exist' });
  });

  it('200 without JSON → failed', () => {
    expect(judge(DINGTALK, 200, '<html>').kind).toBe('failed');
  });

  it.each([500, 502])('%i → retry', (status) => {
    expect(judge(DINGTALK, status).kind).toBe('retry');
  });

  it.each([400, 404])('%i → failed', (status) => {
    expect(judge(DINGTALK, status).kind).toBe('failed');
  });
});

describe.each([
  ['Feishu', FEISHU],
  ['Lark', LARK],
])('%s', (_name, adapter) => {
  it('200 code 0 → delivered', () => {
    expect(judge(adapter, 200, json({ code: 0, data: {}, msg: 'success' }))).toEqual({ kind: 'delivered' });
  });

  it('200 StatusCode 0 (older bots) → delivered', () => {
    expect(judge(adapter, 200, json({ Extra: null, StatusCode: 0, StatusMessage: 'success' }))).toEqual({ kind: 'delivered' });
  });

  it('200 code 19024 (keyword missing) → failed with msg', () => {
    expect(judge(adapter, 200, json({ code: 19024, data: {}, msg: 'Key Words Not Found' }))).toEqual({ kind: 'failed', reason: 'Key Words Not Found' });
  });

  it('200 code 19021 (signature) → failed with msg', () => {
    expect(judge(adapter, 200, json({ code: 19021, data: {}, msg: 'sign match fail or timestamp is not within one hour from current time' }))).toEqual({
      kind: 'failed',
      reason: 'sign match fail or timestamp is not within one hour from current time',
    });
  });

  it.each([9499, 11232])('code %i (rate limited) → retry after a minute, the bot\'s longer window', (code) => {
    expect(judge(adapter, 200, json({ code, msg: 'too many request' }))).toEqual({ kind: 'retry', reason: 'too many request', notBefore: at(60_000) });
  });

  it('code 11232 with the wait stated → retry after it (x-ogw-ratelimit-reset, or Retry-After)', () => {
    expect(judge(adapter, 200, json({ code: 11232, msg: 'frequency limited' }), { 'x-ogw-ratelimit-reset': '12' })).toMatchObject({ notBefore: at(12_000) });
    expect(judge(adapter, 200, json({ code: 11232, msg: 'frequency limited' }), { 'retry-after': '3' })).toMatchObject({ notBefore: at(3_000) });
  });

  it('429 → retry after Retry-After', () => {
    expect(judge(adapter, 429, '', { 'retry-after': '2' })).toMatchObject({ kind: 'retry', notBefore: at(2000) });
  });

  it('5xx → retry, 4xx → failed', () => {
    expect(judge(adapter, 500).kind).toBe('retry');
    expect(judge(adapter, 400, json({ code: 9499, msg: 'Bad Request' })).kind).toBe('retry');
    expect(judge(adapter, 400, json({ code: 19001, msg: 'param invalid' })).kind).toBe('failed');
  });
});

describe('WeCom', () => {
  it('200 errcode 0 → delivered', () => {
    expect(judge(WECOM, 200, json({ errcode: 0, errmsg: 'ok' }))).toEqual({ kind: 'delivered' });
  });

  it('200 errcode 45009 → retry not before now + 60 s', () => {
    expect(judge(WECOM, 200, json({ errcode: 45009, errmsg: 'api freq out of limit' }))).toEqual({ kind: 'retry', reason: 'api freq out of limit', notBefore: at(60_000) });
  });

  it('200 other errcode → failed with errmsg', () => {
    expect(judge(WECOM, 200, json({ errcode: 93000, errmsg: 'invalid webhook url' }))).toEqual({ kind: 'failed', reason: 'invalid webhook url' });
  });

  it('5xx → retry, 4xx → failed', () => {
    expect(judge(WECOM, 502).kind).toBe('retry');
    expect(judge(WECOM, 404).kind).toBe('failed');
  });
});

describe('Custom', () => {
  it.each([json({ code: 0, message: '' }), json({ code: '0', message: '' }), json({ code: 0 }), '{}', json({ status: 'ok' }), 'null', json({ code: null }), '[1]', '42'])(
    '200 %s → delivered (no code, or code 0, is success as Bytebase read it)',
    (body) => {
      expect(judge(CUSTOM, 200, body)).toEqual({ kind: 'delivered' });
    },
  );

  it.each([200, 202, 204])('%i with an empty body → delivered', (status) => {
    expect(judge(CUSTOM, status, '')).toEqual({ kind: 'delivered' });
  });

  it('200 with a non-zero code → retry with message as the reason', () => {
    expect(judge(CUSTOM, 200, json({ code: 400, message: 'Ops, some error occured!' }))).toEqual({ kind: 'retry', reason: 'Ops, some error occured!' });
    expect(judge(CUSTOM, 200, json({ code: '500', message: 'busy' }))).toEqual({ kind: 'retry', reason: 'busy' });
  });

  it('200 with a non-zero code and no message → retry naming the code', () => {
    expect(judge(CUSTOM, 200, json({ code: 7 }))).toEqual({ kind: 'retry', reason: 'code 7' });
  });

  it.each(['OK thanks', 'OK', '<html>done</html>'])('2xx with a non-JSON body %s → delivered', (body) => {
    expect(judge(CUSTOM, 200, body)).toEqual({ kind: 'delivered' });
    expect(judge(CUSTOM, 201, body)).toEqual({ kind: 'delivered' });
  });

  it('2xx with a non-zero code → retry, whatever the 2xx', () => {
    expect(judge(CUSTOM, 202, json({ code: 1, message: 'busy' }))).toEqual({ kind: 'retry', reason: 'busy' });
    expect(judge(CUSTOM, 200, json({ code: 'E42' }))).toEqual({ kind: 'retry', reason: 'code "E42"' });
  });

  it('410 → failed and disable the webhook', () => {
    expect(judge(CUSTOM, 410, 'gone')).toEqual({ kind: 'failed', reason: expect.stringContaining('410'), disable: true });
  });

  it.each([408, 425, 500, 502, 503, 504])('%i → retry', (status) => {
    expect(judge(CUSTOM, status).kind).toBe('retry');
  });

  it('429 → retry honouring Retry-After (seconds or HTTP date)', () => {
    expect(judge(CUSTOM, 429, '', { 'retry-after': '90' })).toEqual({ kind: 'retry', reason: expect.stringContaining('429'), notBefore: at(90_000) });
    expect(judge(CUSTOM, 429, '', { 'retry-after': 'Fri, 01 May 2026 13:00:00 GMT' })).toMatchObject({ notBefore: at(HOUR) });
    expect(judge(CUSTOM, 429, '', { 'retry-after': 'Sun, 03 May 2026 12:00:00 GMT' })).toMatchObject({ notBefore: at(24 * HOUR) });
  });

  it.each([400, 401, 403, 404, 413, 422])('%i → failed', (status) => {
    const verdict = judge(CUSTOM, status, json({ code: status, message: 'no' }));
    expect(verdict.kind).toBe('failed');
    expect(verdict).not.toHaveProperty('disable');
  });

  it.each([301, 302, 303, 307, 308])('%i → failed (redirects are never followed)', (status) => {
    expect(judge(CUSTOM, status, '', { location: 'https://other.example.com' })).toEqual({ kind: 'failed', reason: expect.stringContaining(String(status)) });
  });
});

describe.each(Object.entries(PROVIDERS))('%s, like every provider', (_type, adapter) => {
  it('410 → failed and disable', () => {
    expect(judge(adapter, 410, 'gone')).toMatchObject({ kind: 'failed', disable: true });
  });

  it('429 → retry, not before Retry-After', () => {
    expect(judge(adapter, 429, '', { 'retry-after': '42' })).toMatchObject({ kind: 'retry', notBefore: at(42_000) });
  });

  it('3xx → failed', () => {
    expect(judge(adapter, 307).kind).toBe('failed');
  });
});
