import { receiverThrottle } from '../../../src/webhooks/providers/judging.js';
import type { ProviderAdapter, Throttle } from '../../../src/webhooks/providers/provider.js';
import { PROVIDERS } from '../../../src/webhooks/providers/registry.js';
import { NOW, at, response } from './activities.js';

/* What each provider's answers say of the receiver's limit (issue 25): every webhook sharing the receiver waits until then. */

const throttle = (adapter: ProviderAdapter, status: number, body = '', headers: Record<string, string> = {}): Throttle | undefined =>
  receiverThrottle(adapter, response(status, body, headers), { now: NOW });
const json = (value: unknown) => JSON.stringify(value);
const { DISCORD, TEAMS, DINGTALK, FEISHU, LARK, WECOM } = PROVIDERS;

describe.each(Object.entries(PROVIDERS))('%s, like every provider', (_type, adapter) => {
  it('429 → the receiver waits until Retry-After', () => {
    expect(throttle(adapter, 429, '', { 'retry-after': '42' })).toEqual({ until: at(42_000), reason: expect.stringContaining('429'), scope: 'receiver' });
  });

  it('429 without a wait stated → the receiver waits 5 s', () => {
    expect(throttle(adapter, 429)).toMatchObject({ until: at(5_000), scope: 'receiver' });
  });

  it('a failure that is not about its limit throttles nothing', () => {
    expect(throttle(adapter, 500, 'busy', { 'retry-after': '30' })).toBeUndefined();
    expect(throttle(adapter, 404, 'gone')).toBeUndefined();
  });
});

describe('DingTalk', () => {
  it('errcode 130101 → the robot waits 10 minutes, as it blocks', () => {
    expect(throttle(DINGTALK, 200, json({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' }))).toEqual({
      until: at(10 * 60_000),
      reason: 'send too fast, exceed 20 times per minute',
      scope: 'receiver',
    });
  });

  it('errcode 130101 with a longer Retry-After → until then', () => {
    expect(throttle(DINGTALK, 200, json({ errcode: 130101, errmsg: 'too fast' }), { 'retry-after': '900' })).toMatchObject({ until: at(900_000) });
  });

  it('other answers throttle nothing', () => {
    expect(throttle(DINGTALK, 200, json({ errcode: 0, errmsg: 'ok' }))).toBeUndefined();
    expect(throttle(DINGTALK, 200, json({ errcode: 310000, errmsg: 'keywords not in content' }))).toBeUndefined();
  });
});

describe('WeCom', () => {
  it('errcode 45009 → the robot waits a minute', () => {
    expect(throttle(WECOM, 200, json({ errcode: 45009, errmsg: 'api freq out of limit' }))).toEqual({ until: at(60_000), reason: 'api freq out of limit', scope: 'receiver' });
    expect(throttle(WECOM, 200, json({ errcode: 93000, errmsg: 'invalid webhook url' }))).toBeUndefined();
  });
});

describe.each([
  ['Feishu', FEISHU],
  ['Lark', LARK],
])('%s', (_name, adapter) => {
  it.each([11232, 9499])('code %i → the bot waits a minute (its longer window), whatever the HTTP status', (code) => {
    expect(throttle(adapter, 200, json({ code, msg: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1]' }))).toEqual({
      until: at(60_000),
      reason: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1]',
      scope: 'receiver',
    });
    expect(throttle(adapter, 400, json({ code, msg: 'limited' }))).toMatchObject({ until: at(60_000) });
  });

  it('code 11232 with the wait stated → until then (x-ogw-ratelimit-reset in seconds, or Retry-After)', () => {
    expect(throttle(adapter, 200, json({ code: 11232, msg: 'limited' }), { 'x-ogw-ratelimit-reset': '12' })).toMatchObject({ until: at(12_000) });
    expect(throttle(adapter, 429, json({ code: 99991400, msg: 'request trigger frequency limit' }), { 'x-ogw-ratelimit-reset': '52' })).toMatchObject({ until: at(52_000) });
  });

  it('other codes throttle nothing', () => {
    expect(throttle(adapter, 200, json({ code: 0, msg: 'success' }))).toBeUndefined();
    expect(throttle(adapter, 200, json({ code: 19021, msg: 'sign match fail' }))).toBeUndefined();
  });
});

describe('Discord: its X-RateLimit-* headers', () => {
  const spent = { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '2.5', 'x-ratelimit-bucket': 'abcd1234' };

  it('a delivered message that spent the bucket (Remaining 0) → the webhook waits Reset-After', () => {
    expect(throttle(DISCORD, 204, '', spent)).toEqual({ until: at(2_500), reason: expect.stringContaining('bucket abcd1234'), scope: 'receiver' });
  });

  it('requests remaining, or no headers → nothing to wait for', () => {
    expect(throttle(DISCORD, 204, '', { ...spent, 'x-ratelimit-remaining': '1' })).toBeUndefined();
    expect(throttle(DISCORD, 204)).toBeUndefined();
  });

  it('429 → the webhook waits the body\'s retry_after (the later of it and Retry-After)', () => {
    const body = json({ message: 'You are being rate limited.', retry_after: 1.5, global: false });
    expect(throttle(DISCORD, 429, body, { 'x-ratelimit-scope': 'shared', 'x-ratelimit-bucket': 'abcd1234' })).toEqual({
      until: at(1_500),
      reason: expect.stringContaining('bucket abcd1234'),
      scope: 'receiver',
    });
    expect(throttle(DISCORD, 429, body, { 'retry-after': '2' })).toMatchObject({ until: at(2_000) });
  });

  it('429 of the global limit (X-RateLimit-Global, X-RateLimit-Scope: global, or global in the body) → every Discord webhook waits', () => {
    expect(throttle(DISCORD, 429, json({ retry_after: 0.75, global: true }))).toMatchObject({ until: at(750), scope: 'provider' });
    expect(throttle(DISCORD, 429, json({ retry_after: 3 }), { 'x-ratelimit-global': 'true' })).toMatchObject({ until: at(3_000), scope: 'provider' });
    expect(throttle(DISCORD, 429, json({ retry_after: 3 }), { 'x-ratelimit-scope': 'global' })).toMatchObject({ scope: 'provider' });
  });
});

describe('Teams', () => {
  it('a legacy connector\'s 200 wrapping HTTP error 429 → the webhook waits (Retry-After, else 5 s)', () => {
    const wrapped = 'Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170,cv=deadbeef.0..';
    expect(throttle(TEAMS, 200, wrapped, { 'retry-after': '7' })).toMatchObject({ until: at(7_000), scope: 'receiver' });
    expect(throttle(TEAMS, 200, wrapped)).toMatchObject({ until: at(5_000) });
    expect(throttle(TEAMS, 200, 'Microsoft Teams endpoint returned HTTP error 500 with ContextId x')).toBeUndefined();
    expect(throttle(TEAMS, 200, '1')).toBeUndefined();
  });
});

describe('the judges agree with the throttles', () => {
  it.each([
    ['DINGTALK', 200, json({ errcode: 130101, errmsg: 'too fast' }), {}],
    ['WECOM', 200, json({ errcode: 45009, errmsg: 'too fast' }), {}],
    ['FEISHU', 200, json({ code: 11232, msg: 'limited' }), { 'x-ogw-ratelimit-reset': '9' }],
    ['DISCORD', 429, json({ retry_after: 1.25 }), {}],
    ['SLACK', 429, 'rate_limited', { 'retry-after': '30' }],
  ] as const)('%s: the throttled delivery is retried when its receiver takes messages again', (type, status, body, headers) => {
    const adapter = PROVIDERS[type];
    const verdict = adapter.judge(response(status, body, headers), { now: NOW });
    expect(verdict).toMatchObject({ kind: 'retry', notBefore: throttle(adapter, status, body, headers)!.until });
  });
});
