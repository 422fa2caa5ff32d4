import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api, twoStages } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver, type Reply } from '../support/receiver.js';
import { useTestApp } from '../support/test-app.js';

/*
 * How real receivers' answers are judged, end to end: a receiver written for Bytebase that answers
 * 200 without a code gets each activity once; one that says "busy" gets it again; a Teams connector
 * that wraps a throttle in a 200 gets it again, one that wraps a 400 does not.
 */

const ALL = ['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.field.update', 'bb.issue.status.update', 'bb.pipeline.stage.status.update', 'bb.pipeline.task.status.update'];
const DAY = 24 * 3600 * 1000;

describe('receivers’ answers, judged as they mean them', () => {
  const clock = new ManualClock(new Date('2026-05-01T12:00:00Z'));
  const t = useTestApp({ clock, env: LOCAL_WEBHOOK_ENV, random: () => 0.5 });
  let a: ReturnType<typeof api>;
  const receivers: Receiver[] = [];
  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    return t.app.get(DeliveryDispatcher).runOnce();
  };
  /** Lets every retry come due (the schedule is 5 s … 10 h), pumping after each step. */
  const laterOn = async () => {
    for (const step of [10_000, 6 * 60_000, 31 * 60_000, 2 * 3600_000, 5 * 3600_000, 10 * 3600_000, 10 * 3600_000, DAY]) {
      clock.advance(step);
      await pump();
    }
  };
  const receiver = async (...replies: Reply[]) => {
    const r = await new Receiver().start();
    r.answer(...replies);
    receivers.push(r);
    return r;
  };
  const workflow = async (projectId: number) => {
    const issue = await a.createIssue(projectId, { name: 'Ship it', pipeline: twoStages });
    await a.comment(issue.id, 'on it');
    await a.task(issue.id, issue.pipeline.stages[0].tasks[0].id, { status: 'PENDING' });
    await a.status(issue.id, { status: 'CANCELED' });
  };

  beforeAll(() => {
    a = api(t);
  });
  afterAll(async () => {
    for (const r of receivers) await r.stop();
  });

  it.each<[string, Reply]>([
    ['200 {}', { status: 200, body: '{}', headers: { 'content-type': 'application/json' } }],
    ['200 OK as text', { status: 200, body: 'OK', headers: { 'content-type': 'text/plain' } }],
    ['200 {"status":"ok"}', { status: 200, body: '{"status":"ok"}', headers: { 'content-type': 'application/json' } }],
    ['200 null', { status: 200, body: 'null', headers: { 'content-type': 'application/json' } }],
  ])('a Custom receiver answering %s receives each activity exactly once', async (name, reply) => {
    const r = await receiver(reply);
    const project = await a.createProject(`Custom ${name}`);
    const hook = await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'ops', url: r.url(), activityTypes: ALL }, 201);
    await workflow(project.id);
    await pump();
    await laterOn();
    const ids = r.received.map((x) => x.headers['webhook-id']);
    expect(ids.length).toBeGreaterThanOrEqual(5);
    expect(new Set(ids).size).toBe(ids.length);
    const { items } = await a.get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries`);
    expect(items.map((d: { status: string; attemptCount: number }) => [d.status, d.attemptCount])).toEqual(ids.map(() => ['DELIVERED', 1]));
  });

  it('a Custom receiver answering 200 {"code":1,"message":"busy"} gets it again, with busy recorded', async () => {
    const busy: Reply = { status: 200, body: '{"code":1,"message":"busy"}', headers: { 'content-type': 'application/json' } };
    const r = await receiver(busy, { status: 200, body: '{"code":0}' });
    const project = await a.createProject('Custom busy');
    const hook = await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'ops', url: r.url(), activityTypes: ['bb.issue.create'] }, 201);
    await a.createIssue(project.id, { name: 'Once' });
    await pump();
    const [first] = (await a.get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries`)).items;
    expect(first).toMatchObject({ status: 'RETRYING', attemptCount: 1, lastError: 'busy' });
    const detail = await a.get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries/${first.id}`);
    expect(detail.attempts[0]).toMatchObject({ verdict: 'retry', reason: 'busy' });
    await laterOn();
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([first.id, first.id]);
    expect((await a.get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries/${first.id}`)).status).toBe('DELIVERED');
  });

  it('a Teams connector answering 200 "…returned HTTP error 429…" gets the message again later; "…HTTP error 400…" does not', async () => {
    const wrapped = (code: number): Reply => ({
      status: 200,
      body: `Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error ${code} with ContextId tcid=0,server=msgapi-production`,
      headers: { 'content-type': 'text/plain', 'retry-after': '60' },
    });
    const throttled = await receiver(wrapped(429), { status: 200, body: '1' });
    const refused = await receiver(wrapped(400));
    const project = await a.createProject('Teams');
    const hooks = [];
    for (const [name, r] of [['throttled', throttled], ['refused', refused]] as const) {
      hooks.push(await a.post(`/api/projects/${project.id}/webhooks`, { type: 'TEAMS', name, url: r.url('/webhookb2/x/IncomingWebhook/y/z'), activityTypes: ['bb.issue.create'] }, 201));
    }
    await a.createIssue(project.id, { name: 'Throttled' });
    await pump();
    const status = async (hookId: number) => (await a.get(`/api/projects/${project.id}/webhooks/${hookId}/deliveries`)).items[0];
    expect(await status(hooks[0].id)).toMatchObject({ status: 'RETRYING', lastError: expect.stringContaining('HTTP error 429') });
    expect(await status(hooks[1].id)).toMatchObject({ status: 'FAILED', lastError: expect.stringContaining('HTTP error 400') });
    await laterOn();
    expect([throttled.received.length, refused.received.length]).toEqual([2, 1]);
    expect((await status(hooks[0].id)).status).toBe('DELIVERED');
  });
});
