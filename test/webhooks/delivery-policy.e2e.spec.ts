import { rmSync } from 'node:fs';
import { ManualClock } from '../../src/shared/clock.js';
import { jest } from '@jest/globals';
import { WebhookDirectory } from '../../src/webhooks/config/webhook-directory.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { DeliveryRetention } from '../../src/webhooks/delivery/retention.js';
import { deliveryId } from '../../src/webhooks/subscription/schedule-deliveries.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, tempDir, type TestApp } from '../support/test-app.js';

const T0 = '2026-03-01T10:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const ok = { status: 200, body: '{"code":0}', headers: { 'content-type': 'application/json' } };
const err500 = { status: 500, body: 'boom' };

describe('delivery policy with an injected clock', () => {
  let t: TestApp;
  let a: ReturnType<typeof api>;
  let receiver: Receiver;
  let clock: ManualClock;
  let projectId: number;
  let hookId: number;
  let n = 0;

  const dispatcher = () => t.app.get(DeliveryDispatcher);
  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    return dispatcher().runOnce();
  };
  const hook = () => a.get(`/api/projects/${projectId}/webhooks/${hookId}`);
  const deliveries = async () => (await a.get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries?limit=200`)).items;
  const detail = (id: string) => a.get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries/${id}`);
  const newIssue = () => a.createIssue(projectId, { name: `issue ${++n}` });

  beforeEach(async () => {
    receiver = await new Receiver().start();
    clock = new ManualClock(T0);
    t = await startTestApp({ clock, env: LOCAL_WEBHOOK_ENV, random: () => 0.5 });
    a = api(t);
    projectId = (await a.createProject('Policy')).id;
    hookId = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'svc', url: receiver.url(), activityTypes: ['bb.issue.create'] }, 201)).id;
  });
  afterEach(async () => {
    await t.close();
    await receiver.stop();
  });

  it('retries on the schedule with the same delivery id until it is delivered', async () => {
    receiver.answer(err500, err500, ok);
    await newIssue();
    expect(await pump()).toBe(1);
    let [d] = await deliveries();
    expect(d).toMatchObject({ status: 'RETRYING', attemptCount: 1, nextAttemptAt: at(5_000), lastError: expect.stringContaining('500') });
    expect(await dispatcher().runOnce()).toBe(0); // not due yet
    clock.advance(5_000);
    expect(await dispatcher().runOnce()).toBe(1);
    [d] = await deliveries();
    expect(d).toMatchObject({ status: 'RETRYING', attemptCount: 2, nextAttemptAt: at(5_000 + 300_000) });
    clock.advance(300_000);
    expect(await dispatcher().runOnce()).toBe(1);
    [d] = await deliveries();
    expect(d).toMatchObject({ status: 'DELIVERED', attemptCount: 3, nextAttemptAt: null, lastError: null });
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([d.id]));
    expect(receiver.received.map((r) => r.headers['webhook-timestamp'])).toEqual(['0', '5', '305'].map((s) => String(Date.parse(T0) / 1000 + Number(s))));
    const attempts = (await detail(d.id)).attempts;
    expect(attempts.map((x: { verdict: string; startedAt: string }) => [x.verdict, x.startedAt])).toEqual([
      ['retry', at(0)],
      ['retry', at(5_000)],
      ['delivered', at(305_000)],
    ]);
    expect(attempts[0].response).toMatchObject({ status: 500, body: 'boom' });
  });

  it('honours Retry-After, later than the schedule', async () => {
    receiver.answer({ status: 429, headers: { 'retry-after': '120' } }, ok);
    await newIssue();
    await pump();
    const [d] = await deliveries();
    expect(d).toMatchObject({ status: 'RETRYING', nextAttemptAt: at(120_000) });
    clock.advance(119_000);
    expect(await dispatcher().runOnce()).toBe(0);
    clock.advance(1_000);
    expect(await dispatcher().runOnce()).toBe(1);
  });

  it('fails at once on a permanent verdict, and gives up after the last scheduled retry', async () => {
    receiver.answer({ status: 400, body: '{"code":400,"message":"bad"}' });
    await newIssue();
    await pump();
    expect((await deliveries())[0]).toMatchObject({ status: 'FAILED', attemptCount: 1 });
  });

  it('disables a webhook for a while after 4 failures, holds its deliveries, and resumes them', async () => {
    receiver.answer(err500);
    for (let i = 0; i < 5; i++) await newIssue();
    expect(await pump()).toBe(4);
    expect(await hook()).toMatchObject({ state: 'TEMPORARILY_DISABLED', consecutiveFailures: 4, disabledUntil: at(60_000), lastError: expect.stringContaining('500') });
    const statuses = (await deliveries()).map((d: { status: string }) => d.status).sort();
    expect(statuses).toEqual(['HELD', 'RETRYING', 'RETRYING', 'RETRYING', 'RETRYING']);
    const feed = await a.get('/api/events?limit=1000');
    expect(feed.filter((e: { type: string }) => e.type === 'webhook.health-changed').map((e: { data: any }) => e.data)).toEqual([
      expect.objectContaining({ webhookId: hookId, state: 'TEMPORARILY_DISABLED', consecutiveFailures: 4, disabledUntil: at(60_000), cause: 'failures' }),
    ]);
    // while disabled, due retries are held, not attempted
    clock.advance(30_000);
    expect(await dispatcher().runOnce()).toBe(0);
    expect((await deliveries()).every((d: { status: string }) => d.status === 'HELD')).toBe(true);
    // when the pause ends, everything resumes and one success makes it healthy again
    receiver.answer(ok);
    clock.advance(30_000);
    expect(await dispatcher().runOnce()).toBe(5);
    expect(await hook()).toMatchObject({ state: 'ACTIVE', consecutiveFailures: 0, disabledUntil: null });
    expect((await deliveries()).every((d: { status: string }) => d.status === 'DELIVERED')).toBe(true);
  });

  it('doubles the pause on each further failure', async () => {
    receiver.answer(err500);
    for (let i = 0; i < 6; i++) await newIssue();
    await pump();
    clock.advance(60_000);
    await dispatcher().runOnce(); // the probe after the pause fails: 5 failures → 2 min
    expect(await hook()).toMatchObject({ state: 'TEMPORARILY_DISABLED', consecutiveFailures: 5, disabledUntil: at(60_000 + 120_000) });
  });

  it('disables a webhook whose endpoint is gone (410), skips its deliveries, and recovers them once re-enabled', async () => {
    receiver.answer({ status: 410, body: 'gone' });
    await newIssue();
    await pump();
    expect(await hook()).toMatchObject({ state: 'DISABLED', disabledUntil: null });
    receiver.answer(ok);
    await newIssue();
    await newIssue();
    expect(await pump()).toBe(0);
    const list = await deliveries();
    expect(list.map((d: { status: string }) => d.status).sort()).toEqual(['FAILED', 'SKIPPED', 'SKIPPED']);
    expect(receiver.received).toHaveLength(1);

    // setting it active again re-enables it
    const reenabled = await t.http.patch(`/api/projects/${projectId}/webhooks/${hookId}`).set(t.auth).send({ active: true }).expect(200);
    expect(reenabled.body).toMatchObject({ state: 'ACTIVE', consecutiveFailures: 0 });
    const recovered = await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/recover`).set(t.auth).send({ since: T0 }).expect(202);
    expect(recovered.body).toEqual({ requeued: 3 });
    expect(await dispatcher().runOnce()).toBe(3);
    expect((await deliveries()).every((d: { status: string }) => d.status === 'DELIVERED')).toBe(true);
    const first = list.find((d: { status: string }) => d.status === 'FAILED');
    expect(receiver.received.filter((r) => r.headers['webhook-id'] === first.id)).toHaveLength(2);
  });

  it('does not skip requeued deliveries of a webhook re-enabled since its view of the log was read (a lagging log view, as on PostgreSQL)', async () => {
    receiver.answer({ status: 410, body: 'gone' });
    await newIssue();
    await pump();
    const directory = t.app.get(WebhookDirectory);
    const stale = await directory.get(hookId);
    expect(stale?.health.state).toBe('DISABLED');
    receiver.answer(ok);
    await t.http.patch(`/api/projects/${projectId}/webhooks/${hookId}`).set(t.auth).send({ active: true }).expect(200);
    expect((await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/recover`).set(t.auth).send({ since: T0 }).expect(202)).body).toEqual({ requeued: 1 });
    // the dispatcher's view still has the webhook disabled, as when an older transaction holds back PostgreSQL's log
    jest.spyOn(directory, 'get').mockResolvedValue(stale);
    expect(await dispatcher().runOnce()).toBe(1);
    expect((await deliveries()).map((d: { status: string }) => d.status)).toEqual(['DELIVERED']);
    expect(receiver.received).toHaveLength(2);
  });

  it('re-enables a disabled webhook by a successful test, and records the test like any delivery', async () => {
    receiver.answer({ status: 410 });
    await newIssue();
    await pump();
    expect((await hook()).state).toBe('DISABLED');
    receiver.answer(ok);
    const result = await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/test`).set(t.auth).expect(200);
    expect(result.body).toEqual({ delivered: true, statusCode: 200, durationMs: expect.any(Number) });
    expect((await hook()).state).toBe('ACTIVE');
    const test = receiver.received.at(-1)!.json;
    expect(test).toMatchObject({ level: 'INFO', activity_type: 'bb.issue.create', title: 'Test webhook "svc"', description: 'This is a test', issue: null, creator_id: 1, creator_name: 'Bytebase' });
    const testDelivery = (await deliveries()).find((d: { eventPosition: number | null }) => d.eventPosition === null);
    expect(testDelivery.status).toBe('DELIVERED');
    // a test message is not queued again: a new test is the way
    await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/deliveries/${testDelivery.id}/redeliver`).set(t.auth).expect(409);
  });

  it('reports a failing test without disabling the webhook', async () => {
    receiver.answer(err500);
    const result = await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/test`).set(t.auth).expect(200);
    expect(result.body).toEqual({ delivered: false, statusCode: 500, durationMs: expect.any(Number), error: expect.any(String) });
    expect(await hook()).toMatchObject({ state: 'ACTIVE', consecutiveFailures: 0 });
  });

  it('redelivers a delivered delivery with the same id', async () => {
    await newIssue();
    await pump();
    const [d] = await deliveries();
    await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/deliveries/${d.id}/redeliver`).set(t.auth).expect(202);
    expect(await dispatcher().runOnce()).toBe(1);
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([d.id, d.id]);
    expect((await detail(d.id)).attempts.map((x: { number: number }) => x.number)).toEqual([1, 2]);
    await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/deliveries/msg_nope/redeliver`).set(t.auth).expect(404);
    // the id is derived from (event, webhook): created again, it would be the same
    const events = await a.get('/api/events?limit=1000');
    const created = events.find((e: { type: string }) => e.type === 'issue.created');
    expect(d.id).toBe(deliveryId(created.eventId, hookId));
  });

  it('refuses a literal address the guard refuses at registration, in every spelling, appending nothing', async () => {
    const before = (await a.get('/api/events?limit=1000')).length;
    for (const url of ['http://169.254.169.254/latest', 'http://2852039166/', 'http://0xA9FEA9FE/', 'http://0251.0376.0251.0376/', 'http://[::ffff:169.254.169.254]/', 'http://[fd00:ec2::254]/', 'http://10.0.0.1/', 'http://100.100.100.200/']) {
      const res = await t.http.post(`/api/projects/${projectId}/webhooks`).set(t.auth).send({ type: 'CUSTOM', name: 'meta', url, activityTypes: ['bb.issue.create'] });
      expect({ url, status: res.status, type: res.headers['content-type'], errors: res.body.errors }).toEqual({
        url,
        status: 400,
        type: expect.stringMatching(/^application\/problem\+json/),
        errors: [{ field: 'url', message: expect.stringMatching(/^must not point at .*(metadata|private)/) }],
      });
    }
    expect((await a.get('/api/events?limit=1000')).length).toBe(before);
  });

  it('fails the sends of a webhook whose address was allowed when it was registered, as a blocked address', async () => {
    const dir = tempDir();
    const first = await startTestApp({ dir, clock, env: LOCAL_WEBHOOK_ENV });
    const a1 = api(first);
    const project = (await a1.createProject('Narrowed')).id;
    const hook = (await a1.post(`/api/projects/${project}/webhooks`, { type: 'CUSTOM', name: 'local', url: receiver.url(), activityTypes: ['bb.issue.create'] }, 201)).id;
    await first.close();
    // the operator no longer allows 127.0.0.0/8: the webhook stays, its sends are refused
    const second = await startTestApp({ dir, clock, env: { ...LOCAL_WEBHOOK_ENV, WEBHOOK_ALLOWED_CIDRS: '' } });
    try {
      const a2 = api(second);
      await a2.createIssue(project);
      await second.app.get(WebhookSubscription).catchUp();
      await second.app.get(DeliveryDispatcher).runOnce();
      const [d] = (await a2.get(`/api/projects/${project}/webhooks/${hook}/deliveries`)).items;
      expect(d).toMatchObject({ status: 'FAILED', lastError: expect.stringContaining('blocked address') });
      const attempt = (await a2.get(`/api/projects/${project}/webhooks/${hook}/deliveries/${d.id}`)).attempts[0];
      expect(attempt).toMatchObject({ verdict: 'failed', error: expect.stringContaining('blocked address') });
      expect(receiver.received).toEqual([]);
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cleans up finished deliveries after the retention period', async () => {
    await newIssue();
    await pump();
    clock.advance(14 * 86_400_000 - 1);
    expect(await t.app.get(DeliveryRetention).cleanup()).toBe(0);
    clock.advance(2);
    expect(await t.app.get(DeliveryRetention).cleanup()).toBe(1);
    expect(await deliveries()).toEqual([]);
  });
});
