import { rmSync } from 'node:fs';
import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { DeliveryRetention } from '../../src/webhooks/delivery/retention.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { queryDatabase } from '../support/database-query.js';
import { EmulatedRobot } from '../support/emulated-robot.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, tempDir, testDatabaseUrl, type TestApp } from '../support/test-app.js';

/**
 * Issue 25 on either engine: what a receiver says of its limit holds every webhook of Herald that
 * shares the receiver (Discord's X-RateLimit-* headers, Feishu's 11232, a Custom endpoint's 429),
 * and a block outlives a restart. The instance's clock is injected and moved by the test.
 */

const T0 = '2026-03-01T10:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const json = (body: unknown, headers: Record<string, string> = {}) => ({ status: 200, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
interface Delivery {
  status: string;
  attemptCount: number;
  nextAttemptAt: string;
}

describe('receivers\' limits, shared by the webhooks that share a receiver', () => {
  let dir: string;
  let clock: ManualClock;
  let t: TestApp;
  let a: ReturnType<typeof api>;
  const receivers: Receiver[] = [];
  const receiver = async (...replies: Parameters<Receiver['answer']>) => {
    const r = await new Receiver().start();
    r.answer(...replies);
    receivers.push(r);
    return r;
  };
  const start = async () => {
    t = await startTestApp({ dir, clock, random: () => 0.5, env: LOCAL_WEBHOOK_ENV });
    a = api(t);
  };
  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    return t.app.get(DeliveryDispatcher).runOnce();
  };
  /** A project with one webhook of this type and URL, subscribed to issue creation. */
  const project = async (name: string, type: string, url: string, extra: Record<string, unknown> = {}) => {
    const id = (await a.createProject(name)).id as number;
    const webhook = (await a.post(`/api/projects/${id}/webhooks`, { type, name: 'hook', url, activityTypes: ['bb.issue.create'], ...extra }, 201)).id as number;
    return { id, deliveries: async (): Promise<Delivery[]> => (await a.get(`/api/projects/${id}/webhooks/${webhook}/deliveries?limit=100`)).items };
  };

  beforeEach(async () => {
    dir = tempDir('herald-pace-');
    clock = new ManualClock(T0);
    await start();
  });
  afterEach(async () => {
    await t.close();
    while (receivers.length) await receivers.pop()!.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Discord: a spent bucket (Remaining 0) holds the Discord webhook until Reset-After; a global 429 holds every Discord webhook, and no other', async () => {
    const spent = { status: 204, headers: { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '2.5', 'x-ratelimit-bucket': 'b7e1' } };
    const room = { status: 204, headers: { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset-after': '2', 'x-ratelimit-bucket': 'b7e1' } };
    const discord = await receiver(spent, room);
    const global = await receiver({ status: 429, body: JSON.stringify({ message: 'You are being rate limited.', retry_after: 3, global: true }), headers: { 'content-type': 'application/json', 'x-ratelimit-global': 'true' } }, { status: 204 });
    const slack = await receiver({ status: 200, body: 'ok' });
    // two projects post to the same Discord webhook (id 111)
    const first = await project('Discord one', 'DISCORD', discord.url('/api/webhooks/111/tok-a'));
    const second = await project('Discord two', 'DISCORD', discord.url('/api/webhooks/111/tok-a'));

    await a.createIssue(first.id);
    expect(await pump()).toBe(1);
    await a.createIssue(second.id, { name: 'a' });
    await a.createIssue(second.id, { name: 'b' });
    expect(await pump()).toBe(0);
    expect(await second.deliveries()).toEqual([expect.objectContaining({ status: 'PENDING', attemptCount: 0, nextAttemptAt: at(2500) }), expect.objectContaining({ nextAttemptAt: at(2500) })]);
    clock.advance(2500);
    expect(await pump()).toBe(2);
    expect(discord.received).toHaveLength(3);

    // a global limit: another Discord webhook (id 222) answers 429 global, and every Discord webhook waits 3 s
    const other = await project('Discord three', 'DISCORD', global.url('/api/webhooks/222/tok-c'));
    const chat = await project('Slack', 'SLACK', slack.url('/services/T/B/x'));
    await a.createIssue(other.id);
    expect(await pump()).toBe(1);
    await a.createIssue(first.id, { name: 'after the global limit' });
    await a.createIssue(chat.id, { name: 'to Slack' });
    expect(await pump()).toBe(1);
    expect(slack.received).toHaveLength(1);
    expect((await first.deliveries()).find((d) => d.status === 'PENDING')).toMatchObject({ attemptCount: 0, nextAttemptAt: at(2500 + 3000) });
    clock.advance(3000);
    expect(await pump()).toBe(1);
    expect(discord.received).toHaveLength(4);
    // the refused one itself goes again on the retry schedule (5 s: later than the 3 s it was told)
    clock.advance(2000);
    expect(await pump()).toBe(1);
    expect(global.received).toHaveLength(2);
  });

  it('Feishu: code 11232 holds every webhook of that bot for a minute, and only of that bot', async () => {
    const bot = await receiver(json({ code: 11232, msg: 'frequency limited psm[lark.oapi.app_platform_runtime]' }), json({ code: 0, msg: 'success' }));
    const otherBot = await receiver(json({ code: 0, msg: 'success' }));
    const first = await project('Feishu one', 'FEISHU', bot.url('/open-apis/bot/v2/hook/bot-1'));
    const second = await project('Feishu two', 'FEISHU', bot.url('/open-apis/bot/v2/hook/bot-1'));
    const third = await project('Feishu three', 'FEISHU', otherBot.url('/open-apis/bot/v2/hook/bot-2'));

    await a.createIssue(first.id);
    expect(await pump()).toBe(1);
    expect(await first.deliveries()).toEqual([expect.objectContaining({ status: 'RETRYING', nextAttemptAt: at(60_000) })]);
    await a.createIssue(second.id);
    await a.createIssue(third.id);
    expect(await pump()).toBe(1);
    expect(otherBot.received).toHaveLength(1);
    expect(await second.deliveries()).toEqual([expect.objectContaining({ status: 'PENDING', attemptCount: 0, nextAttemptAt: at(60_000) })]);
    clock.advance(59_999);
    expect(await pump()).toBe(0);
    clock.advance(1);
    expect(await pump()).toBe(2);
    expect(bot.received).toHaveLength(3);
    expect([...(await first.deliveries()), ...(await second.deliveries())].map((d) => d.status)).toEqual(['DELIVERED', 'DELIVERED']);
  });

  it('Custom: a 429 with Retry-After holds every webhook posting to that URL (read with the claim)', async () => {
    const endpoint = await receiver({ status: 429, body: 'slow down', headers: { 'retry-after': '20' } }, json({ code: 0 }));
    const first = await project('Custom one', 'CUSTOM', endpoint.url('/hook'));
    const second = await project('Custom two', 'CUSTOM', endpoint.url('/hook'));
    await a.createIssue(first.id);
    expect(await pump()).toBe(1);
    await a.createIssue(second.id, { name: 'a' });
    await a.createIssue(second.id, { name: 'b' });
    expect(await pump()).toBe(0);
    expect(endpoint.received).toHaveLength(1);
    expect((await second.deliveries()).map((d) => [d.status, d.attemptCount, d.nextAttemptAt])).toEqual([
      ['PENDING', 0, at(20_000)],
      ['PENDING', 0, at(20_000)],
    ]);
    clock.advance(20_000);
    expect(await pump()).toBe(3);
  });

  it('keeps a DingTalk robot\'s 10-minute block across a restart', async () => {
    const robot = await new EmulatedRobot(() => clock.now().getTime()).start();
    try {
      const room = await project('Robot', 'DINGTALK', robot.url('robot-9'), { coalesce: { windowSeconds: 0 } });
      // the robot's minute is full (another sender): Herald's message is refused with 130101, and the robot blocks
      robot.sendElsewhere(20);
      await a.createIssue(room.id);
      expect(await pump()).toBe(1);
      expect(robot.refused()).toBe(1);

      await t.close();
      clock.advance(60_000);
      await start();
      await a.createIssue(room.id, { name: 'after the restart' });
      expect(await pump()).toBe(0);
      clock.advance(8 * 60_000);
      expect(await pump()).toBe(0);
      expect(robot.requests.filter((r) => r.body !== null)).toHaveLength(1);
      expect((await room.deliveries()).map((d) => d.nextAttemptAt)).toEqual([at(10 * 60_000), at(10 * 60_000)]);

      clock.advance(60_000);
      expect(await pump()).toBe(2);
      expect(robot.refused()).toBe(1);
      expect((await room.deliveries()).map((d) => d.status)).toEqual(['DELIVERED', 'DELIVERED']);
    } finally {
      await robot.stop();
    }
  });

  it('forgets a receiver quiet for the retention period (14 days)', async () => {
    const slack = await receiver({ status: 200, body: 'ok' });
    const room = await project('Quiet', 'SLACK', slack.url('/services/T/B/quiet'));
    await a.createIssue(room.id);
    expect(await pump()).toBe(1);
    const rows = async () => queryDatabase(await testDatabaseUrl(dir), `SELECT key FROM webhook_pace`);
    expect(await rows()).toHaveLength(1);
    clock.advance(14 * 86_400_000 - 1);
    await t.app.get(DeliveryRetention).cleanup();
    expect(await rows()).toHaveLength(1);
    clock.advance(2);
    await t.app.get(DeliveryRetention).cleanup();
    expect(await rows()).toEqual([]);
  });
});
