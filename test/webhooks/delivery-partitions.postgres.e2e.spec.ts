import { DataSource } from 'typeorm';
import { pgPool } from '../../src/database/data-source.js';
import { RangePartitions } from '../../src/database/range-partitions.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { DeliveryPartitions } from '../../src/webhooks/delivery/delivery-partitions.js';
import { DeliveryRetention } from '../../src/webhooks/delivery/retention.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const DAY = 86_400_000;
const SPAN = 20;
const ok = { status: 200, body: '{}' };
const err500 = { status: 500, body: 'down' };

interface Delivery {
  id: string;
  eventPosition: number | null;
  status: string;
}

/**
 * The deliveries and their attempts partitioned by event position (issue 26), with 20 positions
 * a partition: where rows land, what the retention drops whole and what it keeps, and a replay
 * into a range it dropped.
 */
describe('partitioned deliveries (PostgreSQL, HERALD_PG_PARTITION_SPAN=20)', () => {
  let t: TestApp;
  let a: ReturnType<typeof api>;
  let clock: ManualClock;
  let receiver: Receiver;
  let projectId: number;
  let hookId: number;

  const store = () => t.app.get(EventStore);
  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    while ((await t.app.get(DeliveryDispatcher).runOnce()) > 0);
  };
  const head = async () => Number((await store().query<{ p: number }>(`SELECT MAX(position) AS p FROM events`))[0].p);
  /** Issues until the log's head reaches `position` (each creation is a delivery to the webhook). */
  const issuesUpTo = async (position: number) => {
    while ((await head()) < position) await a.createIssue(projectId, { name: `issue at ${await head()}` });
  };
  const deliveries = async (): Promise<Delivery[]> => (await a.get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries?limit=200`)).items;
  /** The partitions of a table as [from, to] (null: MINVALUE). */
  const ranges = async (table: string) =>
    (
      await store().query<{ bound: string }>(
        `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = ?::regclass`,
        [table],
      )
    )
      .map(({ bound }) => /FROM \((.+)\) TO \((.+)\)/.exec(bound)!.slice(1).map((v) => (v === 'MINVALUE' ? null : Number(v.replace(/'/g, '')))))
      .sort((x, y) => (x[0] ?? -Infinity) - (y[0] ?? -Infinity));
  /** Which partition holds each row of a table: its range's start (null: the test messages'). */
  const partitionOf = async (table: string, key: string) =>
    new Map(
      (await store().query<{ key: string; part: string }>(`SELECT ${key} AS key, tableoid::regclass::text AS part FROM ${table}`)).map((r) => [
        r.key,
        r.part.endsWith('_from_min') ? null : Number(/_from_(\d+)$/.exec(r.part)![1]),
      ]),
    );

  beforeEach(async () => {
    receiver = await new Receiver().start();
    receiver.answer(ok);
    clock = new ManualClock('2026-03-01T10:00:00.000Z');
    t = await startTestApp({ clock, env: { ...LOCAL_WEBHOOK_ENV, HERALD_PG_PARTITION_SPAN: String(SPAN) } });
    a = api(t);
    // partitions ahead of the log (the keeper of partitions does this in the service)
    await t.app.get(DeliveryPartitions).extendPast(200);
    projectId = (await a.createProject('Parts')).id;
    hookId = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'svc', url: receiver.url(), activityTypes: ['bb.issue.create'] }, 201)).id;
  });
  afterEach(async () => {
    await t.close();
    await receiver.stop();
  });

  it('puts a delivery and its attempts in partitions of the same range, and test messages, shown without a position, in the one below 1', async () => {
    await issuesUpTo(45);
    await pump();
    await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/test`).set(t.auth).expect(200);
    await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/test`).set(t.auth).expect(200);
    expect(await ranges('webhook_deliveries')).toEqual(await ranges('webhook_delivery_attempts'));
    expect((await ranges('webhook_deliveries')).slice(0, 3)).toEqual([[null, 1], [1, 21], [21, 41]]);

    const listed = await deliveries();
    const tests = listed.filter((d) => d.eventPosition === null);
    expect(tests).toHaveLength(2);
    expect(tests.map((d) => d.status)).toEqual(['DELIVERED', 'DELIVERED']);
    const ofEvents = listed.filter((d) => d.eventPosition !== null);
    expect(new Set(ofEvents.map((d) => d.status))).toEqual(new Set(['DELIVERED']));
    const rangeOf = (position: number) => 1 + Math.floor((position - 1) / SPAN) * SPAN;
    expect(new Set(ofEvents.map((d) => rangeOf(d.eventPosition!)))).toEqual(new Set([1, 21, 41]));

    const deliveryParts = await partitionOf('webhook_deliveries', 'id');
    const attemptParts = await partitionOf('webhook_delivery_attempts', 'delivery_id');
    for (const d of ofEvents) {
      expect(deliveryParts.get(d.id)).toBe(rangeOf(d.eventPosition!));
      expect(attemptParts.get(d.id)).toBe(rangeOf(d.eventPosition!));
    }
    for (const d of tests) expect([deliveryParts.get(d.id), attemptParts.get(d.id)]).toEqual([null, null]);
    // distinct positions below 1, each test its own
    const positions = await store().query<{ event_position: number }>(`SELECT event_position FROM webhook_deliveries WHERE event_position < 1 ORDER BY event_position`);
    expect(positions.map((r) => r.event_position)).toEqual([-2, -1]);
  });

  it('drops whole the ranges whose deliveries are all finished and past the retention; keeps those with an open or recent delivery, the one at the head and the test messages’', async () => {
    await issuesUpTo(40);
    await pump();
    // one open delivery in the third range: its receiver fails
    receiver.answer(err500, ok);
    await issuesUpTo(41);
    await issuesUpTo(60);
    await pump();
    await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/test`).set(t.auth).expect(200);
    const before = await deliveries();
    const retrying = before.filter((d) => d.status === 'RETRYING');
    expect(retrying.map((d) => d.eventPosition! > 40 && d.eventPosition! <= 60)).toEqual([true]);

    // ten days on, one delivery of the second range is sent again (it changed within the retention), and the open one fails again
    clock.advance(10 * DAY);
    receiver.answer(ok, err500);
    const redelivered = before.find((d) => d.eventPosition !== null && d.eventPosition > 20 && d.eventPosition <= 40)!;
    await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/deliveries/${redelivered.id}/redeliver`).set(t.auth).expect(202);
    await t.app.get(DeliveryDispatcher).runOnce();
    const status = async (id: string) => (await deliveries()).find((d) => d.id === id)!.status;
    expect([await status(redelivered.id), await status(retrying[0].id)]).toEqual(['DELIVERED', 'RETRYING']);

    clock.advance(5 * DAY);
    // the log goes on: its head's range is young
    await issuesUpTo(65);
    await t.app.get(WebhookSubscription).catchUp();
    const firstRange = before.filter((d) => d.eventPosition !== null && d.eventPosition <= 20);
    expect(firstRange.length).toBeGreaterThan(0);

    const removed = await t.app.get(DeliveryRetention).cleanup();

    const left = await ranges('webhook_deliveries');
    expect(left.slice(0, 4)).toEqual([[null, 1], [21, 41], [41, 61], [61, 81]]);
    expect(await ranges('webhook_delivery_attempts')).toEqual(left);
    const after = await deliveries();
    const ids = new Set(after.map((d) => d.id));
    expect(firstRange.filter((d) => ids.has(d.id))).toEqual([]);
    // the chunked sweep still removes the other old finished ones (and the old test message); the open and the recent one stay
    expect(after.filter((d) => d.eventPosition === null)).toEqual([]);
    expect(after.filter((d) => d.eventPosition! <= 60).map((d) => d.id).sort()).toEqual([redelivered.id, retrying[0].id].sort());
    expect(removed).toBe(before.filter((d) => d.status === 'DELIVERED').length - 1);
    // nothing left that may go: a second sweep drops nothing
    expect(await t.app.get(DeliveryRetention).cleanup()).toBe(0);
    expect(await ranges('webhook_deliveries')).toEqual(left);
  });

  it('a replay of events whose range was dropped makes the range again (both tables) and sends them', async () => {
    await issuesUpTo(25);
    await pump();
    const first = (await deliveries()).filter((d) => d.eventPosition! <= 20);
    clock.advance(15 * DAY);
    await issuesUpTo(45);
    await pump();
    await t.app.get(DeliveryRetention).cleanup();
    expect((await ranges('webhook_deliveries'))[1]).toEqual([21, 41]);
    expect((await ranges('webhook_delivery_attempts'))[1]).toEqual([21, 41]);
    receiver.received.length = 0;

    const started = await a.post(`/api/projects/${projectId}/webhooks/${hookId}/replay`, { from: 'position:1', to: 'position:20' }, 202);
    for (;;) {
      const progress = await a.get(`/api/projects/${projectId}/webhooks/${hookId}/replays/${started.id}`);
      if (progress.state !== 'scanning') {
        expect(progress).toMatchObject({ state: 'queued', count: first.length });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await ranges('webhook_deliveries')).slice(0, 3)).toEqual([[null, 1], [1, 21], [21, 41]]);
    expect((await ranges('webhook_delivery_attempts')).slice(0, 3)).toEqual([[null, 1], [1, 21], [21, 41]]);
    await pump();
    // the same delivery ids as the first time (the receiver's deduplication key), delivered, attempts in the range made again
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set(first.map((d) => d.id)));
    const attempts = await partitionOf('webhook_delivery_attempts', 'delivery_id');
    for (const d of first) expect(attempts.get(d.id)).toBe(1);
  });

  it('drops the attempts of a range whose deliveries’ partition went without them (a sweep stopped half way), and only those', async () => {
    await issuesUpTo(25);
    await pump();
    clock.advance(15 * DAY);
    await issuesUpTo(45);
    await t.app.get(WebhookSubscription).catchUp();
    await new RangePartitions(pgPool(t.app.get(DataSource)), 'webhook_deliveries', 'event_position').drop('webhook_deliveries_from_1');
    expect((await ranges('webhook_delivery_attempts'))[1]).toEqual([1, 21]);
    await t.app.get(DeliveryRetention).cleanup();
    expect((await ranges('webhook_delivery_attempts')).slice(0, 3)).toEqual([[null, 1], [21, 41], [41, 61]]);
    expect(await ranges('webhook_delivery_attempts')).toEqual(await ranges('webhook_deliveries'));
  });

  it('a delivery at a position past the last partition is an error that says so, not a partition made quietly', async () => {
    const last = (await ranges('webhook_deliveries')).at(-1)![1]!;
    await expect(t.app.get(DeliveryPartitions).cover([last + 5])).rejects.toThrow(
      new RegExp(`no partition of webhook_deliveries holds event position ${last + 5} \\(the last ends before ${last}\\)`),
    );
    expect((await ranges('webhook_deliveries')).at(-1)![1]).toBe(last);
  });
});
