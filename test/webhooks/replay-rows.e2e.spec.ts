import { jest } from '@jest/globals';
import { ACTIVITY_TYPES } from '../../src/contract/webhooks.js';
import type { RecordedEvent } from '../../src/event-store/event.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { DeliveryRow } from '../../src/webhooks/delivery/deliveries.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { ReplayedActivities } from '../../src/webhooks/replay/replayed-activity.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * A replay's deliveries store no copy of their activity (the `activity` column is ''): it is
 * built from the log when they are sent, and what the receiver gets is what a live delivery
 * of the same event got. Live webhooks hear the history as it happens; webhooks created
 * after it hear it through a replay; the two are compared body for body.
 */
describe('a replay’s deliveries keep only their event’s position', () => {
  let t: TestApp;
  let receiver: Receiver;
  let a: ReturnType<typeof api>;
  let projectId: number;
  let store: EventStore;

  beforeEach(async () => {
    receiver = await new Receiver().start();
    t = await startTestApp({ clock: new ManualClock('2026-03-01T10:00:00.000Z'), env: LOCAL_WEBHOOK_ENV });
    a = api(t);
    store = t.app.get(EventStore);
    projectId = (await a.createProject('Payments')).id;
  });
  afterEach(async () => {
    await t.close();
    await receiver.stop();
  });

  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    return t.app.get(DeliveryDispatcher).runOnce();
  };
  /** Pumps until nothing is attempted any more (a replay's deliveries wait behind live ones, a claim at a time). */
  const drain = async () => {
    while ((await pump()) > 0);
  };
  const hook = async (name: string, body: Record<string, unknown> = {}) =>
    (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name, url: receiver.url(`/${name}`), activityTypes: ACTIVITY_TYPES, ...body }, 201)).id as number;
  const replay = async (hookId: number, body: Record<string, unknown>) => {
    const started = await a.post(`/api/projects/${projectId}/webhooks/${hookId}/replay`, body, 202);
    for (;;) {
      const progress = await a.get(`/api/projects/${projectId}/webhooks/${hookId}/replays/${started.id}`);
      if (progress.state !== 'scanning') return progress;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const rowsOf = (hookId: number) => store.query<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY event_position`, [hookId]);
  const bodiesAt = (path: string) => receiver.received.filter((r) => r.path === path).map((r) => r.body);
  const titlesOf = async (hookId: number) =>
    ((await a.get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries?limit=100`)).items as { eventPosition: number; title: string | null }[])
      .sort((x, y) => x.eventPosition - y.eventPosition)
      .map((d) => d.title);

  /** Two issues' work interleaved, the issue and the project renamed on the way (a message shows them as they were then). */
  const history = async () => {
    const pipeline = { stages: [{ name: 'test', tasks: [{ name: 'db-test' }] }, { name: 'prod', tasks: [{ name: 'db-prod' }] }] };
    const first = await a.createIssue(projectId, { name: 'Add index', description: 'CREATE INDEX', pipeline });
    const second = await a.createIssue(projectId, { name: 'Drop column' });
    const task = first.pipeline.stages[0].tasks[0].id;
    await a.task(first.id, task, { status: 'PENDING' });
    await a.comment(second.id, 'looks risky');
    await a.task(first.id, task, { status: 'RUNNING' });
    await t.http.patch(`/api/projects/${projectId}`).set(t.auth).send({ name: 'Payments (EU)' }).expect(200);
    await a.task(first.id, task, { status: 'DONE' });
    await t.http.patch(`/api/issues/${first.id}`).set(t.auth).send({ name: 'Add index: users', assigneeId: 2 }).expect(200);
    await a.comment(first.id, 'done on test');
    await a.status(second.id, { status: 'CANCELED', comment: 'later' });
  };

  it('sends a replayed delivery the exact body a live one got, storing no activity, and lists it with its title', async () => {
    const live = await hook('live');
    await history();
    await drain();
    const liveBodies = bodiesAt('/live');
    expect(liveBodies.length).toBeGreaterThanOrEqual(10);

    const replayed = await hook('replayed');
    expect(await replay(replayed, { from: 'position:1' })).toMatchObject({ state: 'queued', count: liveBodies.length });
    const rows = await rowsOf(replayed);
    expect(rows).toHaveLength(liveBodies.length);
    expect(rows.map((r) => r.activity)).toEqual(rows.map(() => ''));
    // the activity built for the send is the one the live path stored, field for field (people, links, times, the pipeline)
    await t.app.get(ReplayedActivities).fill(rows);
    expect(rows.map((r) => JSON.parse(r.activity))).toEqual((await rowsOf(live)).map((r) => JSON.parse(r.activity)));

    await drain();
    expect(bodiesAt('/replayed')).toEqual(liveBodies);
    expect((await rowsOf(replayed)).map((r) => [r.status, r.activity])).toEqual(rows.map(() => ['DELIVERED', '']));
    // the delivery log shows each replayed delivery's title, as the live one's
    expect(await titlesOf(replayed)).toEqual(await titlesOf(live));
    expect((await titlesOf(replayed)).every((title) => typeof title === 'string' && title.length > 0)).toBe(true);

    // redelivered, it is built again: the same body
    const [delivery] = await rowsOf(replayed);
    await t.http.post(`/api/projects/${projectId}/webhooks/${replayed}/deliveries/${delivery.id}/redeliver`).set(t.auth).expect(202);
    await drain();
    expect(bodiesAt('/replayed').slice(liveBodies.length)).toEqual([liveBodies[0]]);
  });

  it('queues a live delivery again without its stored copy: the receiver gets the same body under the same id', async () => {
    const live = await hook('live');
    await history();
    await drain();
    const first = receiver.received.map((r) => [r.headers['webhook-id'], r.body]);

    expect(await replay(live, { from: 'position:1', includeDelivered: true })).toMatchObject({ state: 'queued', count: first.length });
    expect((await rowsOf(live)).map((r) => r.activity)).toEqual(first.map(() => ''));
    await drain();
    expect(receiver.received.slice(first.length).map((r) => [r.headers['webhook-id'], r.body])).toEqual(first);
  });

  it('builds a claim’s activities from a few reads, not a read of each issue per delivery, whatever lies between its events', async () => {
    const comments = ['bb.issue.comment.create'];
    const live = await hook('live', { activityTypes: comments });
    // ten issues worked on at once: each comment follows a rename of its issue, which no delivery carries
    const issues = [];
    for (let i = 0; i < 10; i++) issues.push(await a.createIssue(projectId, { name: `issue ${i}` }));
    for (let round = 0; round < 4; round++) {
      for (const [i, issue] of issues.entries()) {
        await t.http.patch(`/api/issues/${issue.id}`).set(t.auth).send({ name: `issue ${i}, round ${round}` }).expect(200);
        await a.comment(issue.id, `round ${round}`);
      }
    }
    await t.app.get(WebhookSubscription).catchUp();
    const replayed = await hook('replayed', { activityTypes: comments });
    expect(await replay(replayed, { from: 'position:1' })).toMatchObject({ count: 40 });
    const rows = await rowsOf(replayed);
    const replayedActivities = t.app.get(ReplayedActivities);
    const statements = async (claim: DeliveryRow[]) => {
      const before = store.roundTrips;
      await replayedActivities.fill(claim);
      return store.roundTrips - before;
    };
    // two claims of 20, in the log's order as the dispatcher takes them: the events, the project, the people named
    // (a read of each delivery's issue would be 20 or more)
    expect(await statements(rows.slice(0, 20))).toBeLessThanOrEqual(5);
    expect(await statements(rows.slice(20))).toBeLessThanOrEqual(5);
    const stored = (await rowsOf(live)).map((r) => JSON.parse(r.activity));
    expect(rows.map((r) => JSON.parse(r.activity))).toEqual(stored);
    // out of the log's order (a redelivery of older ones): the issues' kept states are ahead, each is folded again
    const again = await rowsOf(replayed);
    await replayedActivities.fill(again.slice(20));
    await replayedActivities.fill(again.slice(0, 20));
    expect(again.map((r) => JSON.parse(r.activity))).toEqual(stored);
  });

  it('goes on with the project from the last claim, not from its start, and folds it again for an older claim', async () => {
    const comments = ['bb.issue.comment.create'];
    const live = await hook('live', { activityTypes: comments });
    const issue = await a.createIssue(projectId, { name: 'busy' });
    // the project's stream grows between the comments (renames here; webhooks' health changes in life)
    for (let round = 0; round < 6; round++) {
      for (let rename = 0; rename < 5; rename++) await t.http.patch(`/api/projects/${projectId}`).set(t.auth).send({ name: `Payments ${round}.${rename}` }).expect(200);
      await a.comment(issue.id, `round ${round}`);
    }
    await t.app.get(WebhookSubscription).catchUp();
    const replayed = await hook('replayed', { activityTypes: comments });
    expect(await replay(replayed, { from: 'position:1' })).toMatchObject({ count: 6 });
    const rows = await rowsOf(replayed);
    const projectStream = `project-${projectId}`;
    const readSpans = store.readStreamSpans.bind(store);
    const readStream = store.readStream.bind(store);
    let projectEventsRead = 0;
    const counted = (events: RecordedEvent[]) => (projectEventsRead += events.filter((e) => e.streamId === projectStream).length);
    const spans = jest.spyOn(store, 'readStreamSpans').mockImplementation(async (asked) => {
      const events = await readSpans(asked);
      counted(events);
      return events;
    });
    const streams = jest.spyOn(store, 'readStream').mockImplementation(async (...args) => {
      const events = await readStream(...args);
      counted(events);
      return events;
    });
    const replayedActivities = t.app.get(ReplayedActivities);
    const read = async (claim: DeliveryRow[]) => {
      projectEventsRead = 0;
      await replayedActivities.fill(claim);
      return projectEventsRead;
    };
    try {
      const before = (position: number) => (store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM events WHERE stream_id = ? AND position < ?`, [projectStream, position])).then((r) => Number(r[0].n));
      const atFirst = await before(rows[0].event_position!);
      const atThird = await before(rows[2].event_position!);
      const atLast = await before(rows[5].event_position!);
      // claims in the log's order: the first reads the project up to its events, the next only what came since
      expect(await read(rows.slice(0, 3))).toBe(atThird);
      expect(await read(rows.slice(3))).toBe(atLast - atThird);
      const stored = (await rowsOf(live)).map((r) => JSON.parse(r.activity));
      expect(rows.map((r) => JSON.parse(r.activity))).toEqual(stored);
      // an older claim after them: the project as it was then, folded from its start again
      const again = await rowsOf(replayed);
      expect(await read(again.slice(0, 1))).toBe(atFirst);
      expect(JSON.parse(again[0].activity)).toEqual(stored[0]);
    } finally {
      spans.mockRestore();
      streams.mockRestore();
    }
  });

  it('fails a replayed delivery whose event no longer maps, unsent and saying why, and sends the others', async () => {
    const first = await a.createIssue(projectId, { name: 'first' });
    await t.http.patch(`/api/issues/${first.id}`).set(t.auth).send({ name: 'renamed' }).expect(200);
    await a.createIssue(projectId, { name: 'second' });
    const replayed = await hook('replayed', { activityTypes: ['bb.issue.create', 'bb.issue.field.update'] });
    expect(await replay(replayed, { from: 'position:1' })).toMatchObject({ state: 'queued', count: 3 });
    // queued, then the event changed under it (a name that is a number: no command appends that)
    const [renamed] = await store.query<{ position: number; data: string | object }>(`SELECT position, data FROM events WHERE type = 'issue.field-updated'`);
    const data = typeof renamed.data === 'string' ? JSON.parse(renamed.data) : renamed.data;
    await store.transact((tx) => tx.exec([{ sql: `UPDATE events SET data = ? WHERE position = ?`, params: [JSON.stringify({ ...data, to: 42 }), renamed.position] }]));

    await drain();
    expect(receiver.received.map((r) => r.json.title)).toEqual(['Issue created - first', 'Issue created - second']);
    const deliveries = (await a.get(`/api/projects/${projectId}/webhooks/${replayed}/deliveries?limit=100`)).items as { id: string; status: string; eventPosition: number; lastError: string | null; title: string | null }[];
    const failed = deliveries.find((d) => d.eventPosition === Number(renamed.position))!;
    const reason = new RegExp(`^could not map event ${renamed.position} \\(issue\\.field-updated\\) to an activity: .+`);
    expect(failed).toMatchObject({ status: 'FAILED', lastError: expect.stringMatching(reason), title: null });
    const detail = await a.get(`/api/projects/${projectId}/webhooks/${replayed}/deliveries/${failed.id}`);
    expect(detail.attempts).toEqual([expect.objectContaining({ number: 1, verdict: 'failed', reason: failed.lastError })]);
    // Herald's own problem: the endpoint's health is not charged for it
    expect(await a.get(`/api/projects/${projectId}/webhooks/${replayed}`)).toMatchObject({ state: 'ACTIVE', consecutiveFailures: 0 });
  });

  it('gathers replayed deliveries into a chat window’s digest as it gathers live ones', async () => {
    const chat = (name: string) =>
      hook(name, { type: 'SLACK', url: receiver.url(`/services/T/B/${name}`), activityTypes: ['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.status.update'], coalesce: { windowSeconds: 60 } });
    await chat('live');
    await history();
    await drain();
    const replayed = await chat('replayed');
    await replay(replayed, { from: 'position:1' });
    await drain();
    const [liveDigest, ...moreLive] = bodiesAt('/services/T/B/live');
    const [replayedDigest, ...moreReplayed] = bodiesAt('/services/T/B/replayed');
    expect([moreLive, moreReplayed]).toEqual([[], []]);
    // one message carrying the five activities (the project named as it was at the first), the same words either way
    expect(liveDigest).toContain('5 updates in Payments');
    expect(liveDigest).toContain('Issue canceled - Drop column');
    expect(replayedDigest).toEqual(liveDigest);
    expect((await rowsOf(replayed)).map((r) => r.status).sort()).toEqual(['COALESCED', 'COALESCED', 'COALESCED', 'COALESCED', 'DELIVERED']);
  });
});
