import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const DAY = 86_400_000;
const NOW = '2026-03-08T10:00:00.000Z';

describe('backfill and replay from the log', () => {
  let t: TestApp;
  let clock: ManualClock;
  let receiver: Receiver;
  let a: ReturnType<typeof api>;
  let projectId: number;
  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    await t.app.get(DeliveryDispatcher).runOnce();
  };

  beforeEach(async () => {
    receiver = await new Receiver().start();
    clock = new ManualClock(new Date(Date.parse(NOW) - 9 * DAY));
    t = await startTestApp({ clock, env: LOCAL_WEBHOOK_ENV });
    a = api(t);
    projectId = (await a.createProject('History')).id;
    // nine days of history: one issue before the week, then the week's work, with a rename the earlier messages must not show
    await a.createIssue(projectId, { name: 'too old' });
    clock.advance(2 * DAY);
    const issue = await a.createIssue(projectId, { name: 'Alpha' });
    clock.advance(DAY);
    await a.comment(issue.id, 'first look');
    clock.advance(DAY);
    await t.http.patch(`/api/issues/${issue.id}`).set(t.auth).send({ name: 'Beta' }).expect(200);
    clock.advance(DAY);
    await a.status(issue.id, { status: 'DONE' });
    clock.advance(DAY);
    await a.createIssue(projectId, { name: 'Gamma' });
    clock.set(NOW);
  });
  afterEach(async () => {
    await t.close();
    await receiver.stop();
  });

  const ALL = ['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.status.update', 'bb.issue.field.update'];
  const WEEK = [
    'Issue created - Alpha',
    'Comment created - Alpha',
    'Changed issue name - Beta',
    'Issue resolved - Beta',
    'Issue created - Gamma',
  ];

  it('sends a webhook created today the week’s activities in order, each once, as they were at their events; a second replay uses the same ids', async () => {
    const weekAgo = new Date(Date.parse(NOW) - 7 * DAY).toISOString();
    const created = await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'new channel', url: receiver.url(), activityTypes: ALL, backfillFrom: weekAgo }, 201);
    expect(created.backfill).toEqual({ replayId: expect.stringMatching(/^rpl_/), count: WEEK.length });
    await pump();
    await pump();
    expect(receiver.received.map((r) => r.json.title)).toEqual(WEEK);
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(WEEK.length);
    // the issue as it was at each event: commented on while open and named Alpha, resolved once named Beta
    expect(receiver.received[1].json.issue).toMatchObject({ name: 'Alpha', status: 'OPEN' });
    expect(receiver.received[3].json.issue).toMatchObject({ name: 'Beta', status: 'DONE' });

    const progress = await a.get(`/api/projects/${projectId}/webhooks/${created.id}/replays/${created.backfill.replayId}`);
    expect(progress).toMatchObject({ count: WEEK.length, done: true, statuses: expect.objectContaining({ DELIVERED: WEEK.length, PENDING: 0 }) });

    // again: nothing new unless asked for; asked for, the same ids, in the same order
    const path = `/api/projects/${projectId}/webhooks/${created.id}/replay`;
    expect(await a.post(path, { from: weekAgo }, 202)).toMatchObject({ count: 0, items: [] });
    const again = await a.post(path, { from: weekAgo, includeDelivered: true }, 202);
    expect(again.count).toBe(WEEK.length);
    await pump();
    expect(receiver.received.slice(WEEK.length).map((r) => r.headers['webhook-id'])).toEqual(ids);
    // the live path adds nothing for the same events
    await pump();
    expect(receiver.received).toHaveLength(2 * WEEK.length);
  });

  it('a dry run sends nothing and lists exactly what the real run sends; activityTypes and the filter narrow it', async () => {
    const hook = await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'h', url: receiver.url(), activityTypes: ALL, filter: 'issue.name != "Gamma"' }, 201);
    const path = `/api/projects/${projectId}/webhooks/${hook.id}/replay`;
    const from = 'position:1';
    const dry = await a.post(path, { from, dryRun: true }, 200);
    expect(dry.replayId).toBeUndefined();
    expect(dry.items.map((i: { title: string }) => i.title)).toEqual(['Issue created - too old', ...WEEK.slice(0, 4)]);
    expect(dry.items.every((i: { alreadyDelivered: boolean }) => !i.alreadyDelivered)).toBe(true);
    await pump();
    expect(receiver.received).toHaveLength(0);

    const narrow = await a.post(path, { from, activityTypes: ['bb.issue.create'], dryRun: true }, 200);
    expect(narrow.items.map((i: { title: string }) => i.title)).toEqual(['Issue created - too old', 'Issue created - Alpha']);

    const real = await a.post(path, { from }, 202);
    expect(real.count).toBe(dry.count);
    expect(real.items).toEqual(dry.items);
    await pump();
    expect(receiver.received.map((r) => r.json.title)).toEqual(dry.items.map((i: { title: string }) => i.title));
    const after = await a.post(path, { from, dryRun: true, includeDelivered: true }, 200);
    expect(after.items.every((i: { alreadyDelivered: boolean }) => i.alreadyDelivered)).toBe(true);
  });

  it('refuses a range end that is no time nor position, creating nothing', async () => {
    const res = await t.http.post(`/api/projects/${projectId}/webhooks`).set(t.auth).send({ type: 'CUSTOM', name: 'x', url: receiver.url(), activityTypes: ALL, backfillFrom: 'last monday' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'backfillFrom' })]);
    expect(await a.get(`/api/projects/${projectId}/webhooks`)).toEqual([]);
  });
});
