import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const T0 = '2026-03-01T10:00:00.000Z';
const ok = { status: 200, body: '{"code":0}', headers: { 'content-type': 'application/json' } };

describe('dispatch: pace, independence and order', () => {
  let t: TestApp;
  let a: ReturnType<typeof api>;
  let clock: ManualClock;
  let projectId: number;
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await new Receiver().start();
    receivers.push(r);
    return r;
  };
  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    return t.app.get(DeliveryDispatcher).runOnce();
  };
  const hook = async (body: Record<string, unknown>) => (await a.post(`/api/projects/${projectId}/webhooks`, { name: 'h', activityTypes: ['bb.issue.create', 'bb.issue.comment.create'], ...body }, 201)).id as number;
  const deliveries = async (hookId: number) => (await a.get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries?limit=200`)).items;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    t = await startTestApp({ clock, env: { ...LOCAL_WEBHOOK_ENV, WEBHOOK_TIMEOUT_MS: '1500' }, random: () => 0.5 });
    a = api(t);
    projectId = (await a.createProject('Dispatch')).id;
  });
  afterEach(async () => {
    await t.close();
    while (receivers.length) await receivers.pop()!.stop();
  });

  it('keeps a Slack webhook to one message a second: the second within the second waits for its slot, and is no attempt', async () => {
    const slack = await receiver();
    slack.answer({ status: 200, body: 'ok' });
    const id = await hook({ type: 'SLACK', url: slack.url('/services/T/B/x') });
    for (let i = 0; i < 5; i++) await a.createIssue(projectId, { name: `paced ${i}` });
    expect(await pump()).toBe(1);
    const waiting = (await deliveries(id)).filter((d: { status: string }) => d.status === 'PENDING');
    expect(waiting).toHaveLength(4);
    expect(waiting.every((d: { attemptCount: number; nextAttemptAt: string }) => d.attemptCount === 0 && d.nextAttemptAt === new Date(Date.parse(T0) + 1000).toISOString())).toBe(true);
    for (let second = 1; second < 5; second++) {
      clock.advance(1000);
      expect(await t.app.get(DeliveryDispatcher).runOnce()).toBe(1);
    }
    expect(slack.received).toHaveLength(5);
  });

  it('does not let a dead endpoint delay another webhook', async () => {
    const dead = await receiver();
    dead.delayMs = Infinity;
    const fast = await receiver();
    fast.answer(ok);
    const deadId = await hook({ type: 'CUSTOM', url: dead.url() });
    const fastId = await hook({ type: 'CUSTOM', url: fast.url() });
    for (let i = 0; i < 3; i++) await a.createIssue(projectId, { name: `parallel ${i}` });
    const started = Date.now();
    const round = pump();
    // the fast webhook's three deliveries land while the dead one's first attempt is still waiting for its timeout
    while (fast.received.length < 3 && Date.now() - started < 1400) await new Promise((r) => setTimeout(r, 10));
    expect(fast.received).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(1400);
    await round;
    expect((await deliveries(fastId)).map((d: { status: string }) => d.status)).toEqual(['DELIVERED', 'DELIVERED', 'DELIVERED']);
    expect((await deliveries(deadId)).every((d: { status: string; lastError: string | null }) => d.status === 'RETRYING' && /timeout/.test(d.lastError ?? ''))).toBe(true);
  });

  it('attempts one issue\'s deliveries in event order, and an ordered webhook waits for an earlier retry', async () => {
    const plain = await receiver();
    const strict = await receiver();
    const fail = { status: 500, body: 'not now' };
    plain.answer(fail, ok);
    strict.answer(fail, ok);
    await hook({ type: 'CUSTOM', url: plain.url() });
    const strictId = await hook({ type: 'CUSTOM', url: strict.url(), ordered: true });
    const issue = await a.createIssue(projectId, { name: 'ordered' });
    await a.comment(issue.id, 'first comment');
    await a.comment(issue.id, 'second comment');
    await pump();
    // plain: the creation failed and waits for its retry; the comments went on, in order
    expect(plain.received.map((r) => r.json.activity_type + ':' + r.json.description)).toEqual(['bb.issue.create:', 'bb.issue.comment.create:first comment', 'bb.issue.comment.create:second comment']);
    // ordered: nothing after the failed creation was attempted
    expect(strict.received.map((r) => r.json.activity_type)).toEqual(['bb.issue.create']);
    expect((await deliveries(strictId)).map((d: { status: string }) => d.status).sort()).toEqual(['PENDING', 'PENDING', 'RETRYING']);
    clock.advance(5000);
    await t.app.get(DeliveryDispatcher).runOnce();
    expect(strict.received.map((r) => r.json.activity_type + ':' + r.json.description)).toEqual([
      'bb.issue.create:',
      'bb.issue.create:',
      'bb.issue.comment.create:first comment',
      'bb.issue.comment.create:second comment',
    ]);
  });
});

describe('dispatch in the background', () => {
  it('delivers to a healthy webhook at once while another webhook\'s endpoint hangs', async () => {
    const dead = await new Receiver().start();
    dead.delayMs = Infinity;
    const fast = await new Receiver().start();
    const t = await startTestApp({ env: { ...LOCAL_WEBHOOK_ENV, HERALD_BACKGROUND_WORKERS: 'true', WEBHOOK_TIMEOUT_MS: '3000' } });
    try {
      const a = api(t);
      const projectId = (await a.createProject('Background')).id;
      await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'dead', url: dead.url(), activityTypes: ['bb.issue.create'] }, 201);
      await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'fast', url: fast.url(), activityTypes: ['bb.issue.create'] }, 201);
      await a.createIssue(projectId, { name: 'first' });
      const waitFor = async (check: () => boolean) => {
        const deadline = Date.now() + 2500;
        while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      };
      await waitFor(() => fast.received.length === 1 && dead.received.length === 1);
      // the dead endpoint's worker is now stuck in its 3 s timeout; a new issue still reaches the fast one quickly
      const sent = Date.now();
      await a.createIssue(projectId, { name: 'second' });
      await waitFor(() => fast.received.length === 2);
      expect(fast.received.map((r) => r.json.title)).toEqual(['Issue created - first', 'Issue created - second']);
      expect(Date.now() - sent).toBeLessThan(1000);
    } finally {
      await t.close();
      await dead.stop();
      await fast.stop();
    }
  });
});
