import { nextSlot, paceKeys, recordLength, sendsOf, stamp, windowMs } from '../../../src/webhooks/delivery/pace.js';
import { PROVIDERS } from '../../../src/webhooks/providers/registry.js';

/* The pace of a receiver as pure rules (issue 25): a sliding window per limit over its latest sends. */

const T = Date.parse('2026-03-01T10:00:00.000Z');
const twentyAMinute = [{ count: 20, perMs: 60_000 }];
const feishu = PROVIDERS.FEISHU.pace.limits;

describe('a receiver\'s record', () => {
  it('is its sends as 13-digit times, oldest first', () => {
    expect(stamp(T)).toBe('1772359200000');
    expect(stamp(5)).toBe('0000000000005');
    expect(sendsOf(stamp(T) + stamp(T + 1500))).toEqual([T, T + 1500]);
    expect(sendsOf('')).toEqual([]);
  });

  it('keeps as many sends as its longest count', () => {
    expect(recordLength(feishu)).toBe(100);
    expect(recordLength([])).toBe(0);
  });
});

describe('the next slot', () => {
  it('is now while a limit has room, whatever the burst', () => {
    const nineteen = Array.from({ length: 19 }, () => T);
    expect(nextSlot(twentyAMinute, nineteen, 0, T)).toBe(T);
  });

  it('with 20 sent within the minute, is when the oldest of them leaves it (a second more: receivers count by their own clocks)', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => T + i * 1000);
    expect(windowMs(twentyAMinute[0])).toBe(61_000);
    expect(nextSlot(twentyAMinute, twenty, 0, T + 30_000)).toBe(T + 61_000);
    // the 21st goes once the first left: the window then holds sends 2..21
    expect(nextSlot(twentyAMinute, [...twenty.slice(1), T + 61_000], 0, T + 61_000)).toBe(T + 62_000);
  });

  it('keeps windows under a minute as documented', () => {
    expect(windowMs({ count: 5, perMs: 1000 })).toBe(1000);
  });

  it('holds every limit: Feishu\'s 5 a second and 100 a minute', () => {
    const five = Array.from({ length: 5 }, (_, i) => T + i * 100);
    expect(nextSlot(feishu, five, 0, T + 500)).toBe(T + 1000);
    const hundred = Array.from({ length: 100 }, (_, i) => T + i * 500);
    expect(nextSlot(feishu, hundred, 0, T + 50_000)).toBe(T + 61_000);
  });

  it('waits for a block, however free the limits', () => {
    expect(nextSlot(twentyAMinute, [], T + 600_000, T)).toBe(T + 600_000);
    expect(nextSlot([], [], T + 5_000, T)).toBe(T + 5_000);
  });
});

describe('the rows a webhook is paced by', () => {
  it('name a DingTalk robot by its access_token, whichever host the URL names, and hide the token', () => {
    const oapi = paceKeys(PROVIDERS.DINGTALK, 'https://oapi.dingtalk.com/robot/send?access_token=0a1b2c3d');
    const api = paceKeys(PROVIDERS.DINGTALK, 'https://api.dingtalk.com/robot/send?access_token=0a1b2c3d');
    const other = paceKeys(PROVIDERS.DINGTALK, 'https://oapi.dingtalk.com/robot/send?access_token=ffff');
    expect(oapi).toEqual(api);
    expect(oapi.receiver).not.toEqual(other.receiver);
    expect(oapi.receiver).toMatch(/^DINGTALK:[0-9a-f]{32}$/);
    expect(oapi.receiver).not.toContain('0a1b2c3d');
    expect(oapi.provider).toBe('DINGTALK');
  });

  it('name a Slack webhook by its whole URL, and tell providers apart', () => {
    const a = paceKeys(PROVIDERS.SLACK, 'https://hooks.slack.com/services/T/B/x');
    expect(a).not.toEqual(paceKeys(PROVIDERS.SLACK, 'https://hooks.slack.com/services/T/B/y'));
    expect(paceKeys(PROVIDERS.FEISHU, 'https://h/open-apis/bot/v2/hook/1').receiver).not.toEqual(paceKeys(PROVIDERS.LARK, 'https://h/open-apis/bot/v2/hook/1').receiver);
  });
});
