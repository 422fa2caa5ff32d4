import { EventStore } from '../../src/event-store/event-store.js';
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
  /** A replay reads the log in the background: its progress once it has queued everything (or failed). */
  const queued = async (projectId: number, webhookId: number, replayId: string) => {
    for (;;) {
      const progress = await a.get(`/api/projects/${projectId}/webhooks/${webhookId}/replays/${replayId}`);
      if (progress.state !== 'scanning') return progress;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const replay = async (path: string, body: object) => {
    const started = await a.post(path, body, 202);
    return queued(projectId, Number(/webhooks\/(\d+)/.exec(path)![1]), started.id);
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
    expect(created.backfill).toEqual({ replayId: expect.stringMatching(/^rpl_/) });
    expect(await queued(projectId, created.id, created.backfill.replayId)).toMatchObject({ state: 'queued', count: WEEK.length });
    await pump();
    await pump();
    expect(receiver.received.map((r) => r.json.title)).toEqual(WEEK);
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(WEEK.length);
    // the issue as it was at each event: commented on while open and named Alpha, resolved once named Beta
    expect(receiver.received[1].json.issue).toMatchObject({ name: 'Alpha', status: 'OPEN' });
    expect(receiver.received[3].json.issue).toMatchObject({ name: 'Beta', status: 'DONE' });

    const progress = await a.get(`/api/projects/${projectId}/webhooks/${created.id}/replays/${created.backfill.replayId}`);
    expect(progress).toMatchObject({ state: 'queued', count: WEEK.length, done: true, error: null, statuses: expect.objectContaining({ DELIVERED: WEEK.length, PENDING: 0 }) });

    // again: nothing new unless asked for; asked for, the same ids, in the same order
    const path = `/api/projects/${projectId}/webhooks/${created.id}/replay`;
    expect(await replay(path, { from: weekAgo })).toMatchObject({ state: 'queued', count: 0, done: true });
    const again = await replay(path, { from: weekAgo, includeDelivered: true });
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
    expect(dry).toMatchObject({ complete: true, next: null, fromPosition: 1 });
    expect(dry.scannedTo).toBe(dry.toPosition);
    expect(dry.items.map((i: { title: string }) => i.title)).toEqual(['Issue created - too old', ...WEEK.slice(0, 4)]);
    expect(dry.items.map((i: { alreadyDelivered: boolean }) => i.alreadyDelivered)).toEqual(dry.items.map(() => false));
    await pump();
    expect(receiver.received).toHaveLength(0);

    const narrow = await a.post(path, { from, activityTypes: ['bb.issue.create'], dryRun: true }, 200);
    expect(narrow.items.map((i: { title: string }) => i.title)).toEqual(['Issue created - too old', 'Issue created - Alpha']);

    const real = await replay(path, { from });
    expect(real.count).toBe(dry.count);
    await pump();
    expect(receiver.received.map((r) => r.json.title)).toEqual(dry.items.map((i: { title: string }) => i.title));
    const after = await a.post(path, { from, dryRun: true, includeDelivered: true }, 200);
    // the same items, each delivered now
    expect(after.items.map((i: { title: string; alreadyDelivered: boolean }) => [i.title, i.alreadyDelivered])).toEqual(dry.items.map((i: { title: string }) => [i.title, true]));
  });

  it('refuses a range whose start is after its end, naming from, and records no replay', async () => {
    const hook = await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'h', url: receiver.url(), activityTypes: ALL }, 201);
    const path = `/api/projects/${projectId}/webhooks/${hook.id}/replay`;
    for (const body of [
      { from: 'position:1000000', to: 'position:1' },
      { from: '2026-03-08T00:00:00Z', to: '2026-03-01T00:00:00Z' },
      { from: '2026-03-08T00:00:00Z', to: 'position:1', dryRun: true },
    ]) {
      const res = await t.http.post(path).set(t.auth).send(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.errors).toEqual([{ field: 'from', message: 'must not be after to' }]);
    }
    expect(await t.app.get(EventStore).query(`SELECT id FROM webhook_replays`)).toEqual([]);
  });

  it('refuses times that are no instant (30 February, T24:00), naming the field, and creates nothing', async () => {
    const hook = await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'h', url: receiver.url(), activityTypes: ALL }, 201);
    const path = `/api/projects/${projectId}/webhooks/${hook.id}/replay`;
    const cases: [object, string, RegExp][] = [
      [{ from: '2026-02-30T00:00:00Z' }, 'from', /no day 30 in 2026-02/],
      [{ from: '2026-03-01T24:00:00Z' }, 'from', /no hour 24/],
      [{ from: 'position:1', to: '2026-03-01T24:00Z', dryRun: true }, 'to', /no hour 24/],
    ];
    for (const [body, field, message] of cases) {
      const res = await t.http.post(path).set(t.auth).send(body);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field, message: expect.stringMatching(message) }]);
    }
    const backfill = await t.http.post(`/api/projects/${projectId}/webhooks`).set(t.auth).send({ type: 'CUSTOM', name: 'x', url: receiver.url('/other'), activityTypes: ALL, backfillFrom: '2026-02-30T00:00:00Z' });
    expect(backfill.status).toBe(400);
    expect(backfill.body.errors).toEqual([{ field: 'backfillFrom', message: expect.stringMatching(/no day 30/) }]);
    expect((await a.get(`/api/projects/${projectId}/webhooks`)).map((w: { id: number }) => w.id)).toEqual([hook.id]);
    expect(await t.app.get(EventStore).query(`SELECT id FROM webhook_replays`)).toEqual([]);
  });

  it('identical replays started together each report what they queued themselves: together, each delivery once', async () => {
    const hook = await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'h', url: receiver.url(), activityTypes: ALL }, 201);
    const path = `/api/projects/${projectId}/webhooks/${hook.id}/replay`;
    const { count: total } = await a.post(path, { from: 'position:1', dryRun: true }, 200);
    const started = await Promise.all([a.post(path, { from: 'position:1' }, 202), a.post(path, { from: 'position:1' }, 202)]);
    const [first, second] = await Promise.all(started.map((r: { id: string }) => queued(projectId, hook.id, r.id)));
    expect(first.count + second.count).toBe(total);
    // each counts the deliveries it queued: those that name it
    for (const progress of [first, second]) expect(Object.values(progress.statuses as Record<string, number>).reduce((sum, n) => sum + n, 0)).toBe(progress.count);
    await pump();
    expect(receiver.received).toHaveLength(total);
  });

  it('sends live activities before a replay’s deliveries to the same webhook', async () => {
    receiver.answer({ status: 200, body: 'ok' });
    const hook = await a.post(`/api/projects/${projectId}/webhooks`, { type: 'SLACK', name: 'room', url: receiver.url('/services/T/B/x'), activityTypes: ['bb.issue.create'] }, 201);
    const backfill = await replay(`/api/projects/${projectId}/webhooks/${hook.id}/replay`, { from: 'position:1' });
    expect(backfill.count).toBe(3);
    await a.createIssue(projectId, { name: 'Happening now' });
    // Slack's pace lets one through a second: the live one first, then the replay's in the log's order
    for (let second = 0; second < 3; second++) {
      await pump();
      clock.advance(1000);
    }
    expect(receiver.received.map((r) => JSON.parse(r.body).text.split('\n')[0])).toEqual([
      expect.stringContaining('Happening now'),
      expect.stringContaining('too old'),
      expect.stringContaining('Alpha'),
    ]);
  });

  it('refuses a range end that is no time nor position, creating nothing', async () => {
    const res = await t.http.post(`/api/projects/${projectId}/webhooks`).set(t.auth).send({ type: 'CUSTOM', name: 'x', url: receiver.url(), activityTypes: ALL, backfillFrom: 'last monday' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'backfillFrom' })]);
    expect(await a.get(`/api/projects/${projectId}/webhooks`)).toEqual([]);
  });
});
