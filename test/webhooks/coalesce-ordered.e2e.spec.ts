import { EventStore } from '../../src/event-store/event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { DeliveryQueue } from '../../src/webhooks/delivery/queue.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, testEngine, type TestApp } from '../support/test-app.js';

/*
 * Ordered delivery and coalescing together (issue 23): a DingTalk webhook with `ordered: true`
 * and its default 60 s window. When the window ends, every pending activity of the webhook
 * goes (all issues' lines, each in its order), never only the head of each line; and a later
 * activity of an issue never overtakes the message that carries its issue's earlier ones.
 */

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const ROBOT_OK = { status: 200, body: '{"errcode":0}', headers: { 'content-type': 'application/json' } };
const ROBOT_THROTTLED = { status: 200, body: '{"errcode":130101,"errmsg":"send too fast"}', headers: { 'content-type': 'application/json' } };

interface DeliveryView {
  id: string;
  status: string;
  issueId: number | null;
  carriedBy: string | null;
}

describe('an ordered DingTalk webhook with its coalescing window', () => {
  let t: TestApp;
  let clock: ManualClock;
  let robot: Receiver;
  let a: ReturnType<typeof api>;
  let projectId: number;
  let hookId: number;

  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    await t.app.get(DeliveryDispatcher).runOnce();
  };
  const deliveries = async (): Promise<DeliveryView[]> => (await a.get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries?limit=200`)).items;
  /** The titles of the activities each message the robot accepted lists, in its order (a digest's lines, or a single message's title). */
  const titles = (text: string) => {
    const lines = [...text.matchAll(/^##### \*\*(?:•|✅|⚠️|❗) (.+?):\*\*/gm)].map((m) => m[1]);
    return lines.length > 0 ? lines : [/^# (.+)$/m.exec(text)![1]];
  };
  /** The requests the robot throttled (by their index): not accepted. */
  const throttled = new Set<number>();
  const accepted = () => robot.received.filter((_, i) => !throttled.has(i)).map((r) => titles(r.json.markdown.text));

  beforeEach(async () => {
    clock = new ManualClock(new Date(T0).toISOString());
    robot = await new Receiver().start();
    robot.answer(ROBOT_OK);
    throttled.clear();
    t = await startTestApp({ clock, env: LOCAL_WEBHOOK_ENV, random: () => 0.5 });
    a = api(t);
    projectId = (await a.createProject('Ordered room')).id;
    hookId = (
      await a.post(
        `/api/projects/${projectId}/webhooks`,
        { type: 'DINGTALK', name: 'room', url: robot.url('/robot/send?access_token=t'), activityTypes: ['bb.issue.create', 'bb.issue.field.update'], ordered: true },
        201,
      )
    ).id;
  });
  afterEach(async () => {
    await t.close();
    await robot.stop();
  });

  /** An activity on an issue, then the subscription and the dispatcher catch up, 100 ms later the next. */
  const act = async (step: () => Promise<unknown>) => {
    await step();
    await pump();
    clock.advance(100);
  };
  const rename = (issueId: number, name: string) => t.http.patch(`/api/issues/${issueId}`).set(t.auth).send({ name }).expect(200);

  it('sends every activity of both issues, each issue in order, when the window ends: 9 activities within a second', async () => {
    let one = 0;
    let two = 0;
    await act(async () => (one = (await a.createIssue(projectId, { name: 'one' })).id));
    await act(async () => (two = (await a.createIssue(projectId, { name: 'two' })).id));
    for (const v of [1, 2, 3]) {
      await act(() => rename(one, `one v${v}`));
      await act(() => rename(two, `two v${v}`));
    }
    await act(() => rename(one, 'one v4'));
    // the first went at once; the rest waits for the window's end
    expect(accepted()).toEqual([['Issue created - one']]);
    clock.set(new Date(T0 + 59_999));
    await pump();
    expect(accepted()).toHaveLength(1);

    // the window ends (DingTalk's pace, 20 a minute, holds nothing back here)
    clock.set(new Date(T0 + 60_000));
    await pump();
    const rows = await deliveries();
    expect(rows).toHaveLength(9);
    const delivered = new Set(rows.filter((d) => d.status === 'DELIVERED').map((d) => d.id));
    expect(rows.filter((d) => !(delivered.has(d.id) || (d.status === 'COALESCED' && delivered.has(d.carriedBy!))))).toEqual([]);
    // every activity in exactly one accepted message, each issue's in its order
    const sent = accepted().flat();
    expect([...sent].sort()).toEqual(
      ['Issue created - one', 'Issue created - two', ...[1, 2, 3, 4].map((v) => `Changed issue name - one v${v}`), ...[1, 2, 3].map((v) => `Changed issue name - two v${v}`)].sort(),
    );
    expect(sent.filter((s) => /\bone\b/.test(s))).toEqual(['Issue created - one', 'Changed issue name - one v1', 'Changed issue name - one v2', 'Changed issue name - one v3', 'Changed issue name - one v4']);
    expect(sent.filter((s) => /\btwo\b/.test(s))).toEqual(['Issue created - two', 'Changed issue name - two v1', 'Changed issue name - two v2', 'Changed issue name - two v3']);
    expect(accepted()).toHaveLength(2);
  });

  it('holds an issue’s later activity until the message carrying its earlier ones is delivered', async () => {
    let one = 0;
    let two = 0;
    await act(async () => (one = (await a.createIssue(projectId, { name: 'one' })).id));
    await act(() => rename(one, 'one v1'));
    await act(async () => (two = (await a.createIssue(projectId, { name: 'two' })).id));
    // the window's message carries "one v1" and "two" created; the robot throttles it: retried 10 minutes later
    robot.answer(ROBOT_THROTTLED);
    clock.set(new Date(T0 + 60_000));
    await pump();
    expect(robot.received).toHaveLength(2);
    throttled.add(1);
    robot.answer(ROBOT_OK);
    clock.set(new Date(T0 + 61_000));
    await act(() => rename(two, 'two v1'));
    // the next window ends: "two v1" is due, but the message carrying "two" created is not sent yet
    clock.set(new Date(T0 + 121_000));
    await pump();
    expect(robot.received).toHaveLength(2);
    // the retry, then what waited behind it, in order
    clock.set(new Date(T0 + 60_000 + 10 * 60_000));
    await pump();
    clock.set(new Date(T0 + 60_000 + 11 * 60_000));
    await pump();
    expect(accepted().flat()).toEqual(['Issue created - one', 'Changed issue name - one v1', 'Issue created - two', 'Changed issue name - two v1']);
    expect((await deliveries()).every((d) => d.status === 'DELIVERED' || d.status === 'COALESCED')).toBe(true);
  });

  it('tells the dispatcher nothing is due while an ordered webhook’s due deliveries wait behind an earlier one', async () => {
    let one = 0;
    await act(async () => (one = (await a.createIssue(projectId, { name: 'one' })).id));
    await act(() => rename(one, 'one v1'));
    // "one v1" waits for the window's end; "one v2" comes due now, behind it
    await act(() => rename(one, 'one v2'));
    const queue = t.app.get(DeliveryQueue);
    const now = clock.now().getTime();
    const { webhookIds, next } = await queue.due(now, async () => true);
    expect(webhookIds).toEqual([]);
    expect(next).toEqual([{ webhookId: hookId, at: T0 + 60_000 }]);
    // and a worker would claim nothing now
    expect(await queue.claim(hookId, true)).toEqual([]);
  });

  // PostgreSQL: instances claim side by side (FOR UPDATE SKIP LOCKED); SQLite's claims take turns
  (testEngine() === 'postgres' ? it : it.skip)('takes no part of a line whose first delivery another instance is claiming right now', async () => {
    const custom = await new Receiver().start();
    try {
      const ordered = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'ordered', url: custom.url(), activityTypes: ['bb.issue.create', 'bb.issue.field.update'], ordered: true }, 201)).id;
      const one = (await a.createIssue(projectId, { name: 'one' })).id;
      await rename(one, 'one v1');
      await rename(one, 'one v2');
      const two = (await a.createIssue(projectId, { name: 'two' })).id;
      await t.app.get(WebhookSubscription).catchUp();
      const store = t.app.get(EventStore);
      const rows = await store.query<{ id: string; issue_id: number }>(`SELECT id, issue_id FROM webhook_deliveries WHERE webhook_id = ? ORDER BY event_position`, [ordered]);
      expect(rows.map((r) => Number(r.issue_id))).toEqual([one, one, one, two]);
      // another instance's claim holds issue one's first delivery (locked, not yet committed) while this one claims
      let locked!: () => void;
      let done!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const finished = new Promise<void>((resolve) => (done = resolve));
      const other = store.transact(async (tx) => {
        await tx.all(`SELECT id FROM webhook_deliveries WHERE id = ? FOR UPDATE`, [rows[0].id]);
        locked();
        await finished;
      });
      await isLocked;
      const claimed = await t.app.get(DeliveryQueue).claim(ordered, true);
      done();
      await other;
      expect(claimed.map((r) => Number(r.issue_id))).toEqual([two]);
    } finally {
      await custom.stop();
    }
  });
});
