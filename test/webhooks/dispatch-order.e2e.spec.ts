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

/** Waits for a condition (a generous deadline: what is asserted is the order of events, not their speed). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a dead endpoint does not delay another webhook', () => {
  // an attempt that would wait a minute: the dead endpoint's requests end only when the test closes it
  const env = { ...LOCAL_WEBHOOK_ENV, WEBHOOK_TIMEOUT_MS: '60000' };
  let dead: Receiver;
  let fast: Receiver;
  beforeEach(async () => {
    dead = await new Receiver().start();
    dead.delayMs = Infinity;
    fast = await new Receiver().start();
    fast.answer(ok);
  });
  afterEach(async () => {
    await dead.stop();
    await fast.stop();
  });

  it('in one round: the fast webhook’s deliveries land while the dead one’s attempts are still held', async () => {
    const t = await startTestApp({ clock: new ManualClock(T0), env });
    try {
      const a = api(t);
      const projectId = (await a.createProject('Dispatch')).id;
      const hook = async (name: string, url: string) => (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name, url, activityTypes: ['bb.issue.create'] }, 201)).id as number;
      const deliveries = async (hookId: number) => (await a.get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries?limit=200`)).items as { status: string; attemptCount: number; lastError: string | null }[];
      const deadId = await hook('dead', dead.url());
      const fastId = await hook('fast', fast.url());
      for (let i = 0; i < 3; i++) await a.createIssue(projectId, { name: `parallel ${i}` });
      await t.app.get(WebhookSubscription).catchUp();
      const round = t.app.get(DeliveryDispatcher).runOnce();
      await until(() => fast.received.length === 3 && dead.received.length > 0, 'the fast deliveries and a request held by the dead endpoint');
      // all three reached the fast endpoint while no attempt of the dead webhook has ended: they are still being delivered
      expect((await deliveries(deadId)).map((d) => [d.status, d.attemptCount])).toEqual([
        ['DELIVERING', 0],
        ['DELIVERING', 0],
        ['DELIVERING', 0],
      ]);
      // the endpoint goes away: its held attempts fail, and wait for their retry
      await dead.stop();
      await round;
      expect((await deliveries(fastId)).map((d) => d.status)).toEqual(['DELIVERED', 'DELIVERED', 'DELIVERED']);
      const after = await deliveries(deadId);
      expect(after).toHaveLength(3);
      for (const d of after) expect([d.status, d.attemptCount, d.lastError]).toEqual(['RETRYING', 1, expect.any(String)]);
    } finally {
      await dead.stop();
      await t.close();
    }
  });

  it('in the background: a new issue reaches the fast webhook while the dead one still holds the first', async () => {
    const t = await startTestApp({ env: { ...env, HERALD_BACKGROUND_WORKERS: 'true' } });
    try {
      const a = api(t);
      const projectId = (await a.createProject('Background')).id;
      await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'dead', url: dead.url(), activityTypes: ['bb.issue.create'] }, 201);
      await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'fast', url: fast.url(), activityTypes: ['bb.issue.create'] }, 201);
      await a.createIssue(projectId, { name: 'first' });
      await until(() => fast.received.length === 1 && dead.received.length === 1, 'the first issue at both endpoints');
      // the dead endpoint's worker waits on its attempt (for a minute); a new issue still reaches the fast one
      await a.createIssue(projectId, { name: 'second' });
      await until(() => fast.received.length === 2, 'the second issue at the fast endpoint');
      expect(fast.received.map((r) => r.json.title)).toEqual(['Issue created - first', 'Issue created - second']);
      // and the dead endpoint still holds the first one: the second came while it waited, not after
      expect(dead.received.map((r) => r.json.title)).toEqual(['Issue created - first']);
    } finally {
      // its held request ends first: a closing service waits for its attempts
      await dead.stop();
      await t.close();
    }
  });
});
