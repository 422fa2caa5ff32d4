import { rmSync } from 'node:fs';
import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { queryDatabase } from '../support/database-query.js';
import { EmulatedRobot } from '../support/emulated-robot.js';
import { LOCAL_WEBHOOK_ENV } from '../support/receiver.js';
import { startTestApp, tempDir, testDatabaseUrl, type TestApp } from '../support/test-app.js';

/**
 * Issue 25: three Herald instances on one PostgreSQL database send to one DingTalk robot, through
 * two webhooks of two projects (the same robot: its access_token), and keep to its 20 messages a
 * minute together. The robot is emulated as the real one behaves (130101 past its limit, then 10
 * minutes of it) and counts by its own clock; the instances have theirs, injected, and the test
 * moves all of them together, so the minutes pass at once.
 */

const T0 = '2026-03-01T10:00:00.000Z';
const MINUTE = 60_000;

describe('three instances, one DingTalk robot (PostgreSQL)', () => {
  let dir: string;
  let url: string;
  let robot: EmulatedRobot;
  let robotClock: ManualClock;
  let clocks: ManualClock[];
  let apps: TestApp[];
  let hooks: { project: number; webhook: number }[];

  /** Every clock (the instances' and the robot's) moves on together. */
  const advance = (ms: number) => [...clocks, robotClock].forEach((clock) => clock.advance(ms));
  const dispatch = (i: number) => apps[i].app.get(DeliveryDispatcher).runOnce();
  const dispatchAll = () => Promise.all(apps.map((_, i) => dispatch(i)));
  /** Issues in a project (one activity each), queued as deliveries by the subscription. */
  const issues = async (project: number, n: number, name: string) => {
    for (let i = 0; i < n; i++) await api(apps[0]).createIssue(project, { name: `${name} ${i}` });
    await apps[0].app.get(WebhookSubscription).catchUp();
  };
  const statuses = async () =>
    Object.fromEntries((await queryDatabase<{ status: string; n: string }>(url, `SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status`)).map((r) => [r.status, Number(r.n)]));
  /** When the next open delivery comes due, by the database. */
  const nextDue = async () => Number((await queryDatabase<{ at: string }>(url, `SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE status IN ('PENDING', 'RETRYING')`))[0].at);

  beforeEach(async () => {
    dir = tempDir('herald-pace-');
    url = await testDatabaseUrl(dir);
    robotClock = new ManualClock(T0);
    robot = await new EmulatedRobot(() => robotClock.now().getTime()).start();
    clocks = [new ManualClock(T0), new ManualClock(T0), new ManualClock(T0)];
    apps = [];
    for (const clock of clocks) apps.push(await startTestApp({ dir, clock, random: () => 0.5, env: { ...LOCAL_WEBHOOK_ENV, WEBHOOK_TIMEOUT_MS: '5000' } }));
    const a = api(apps[0]);
    hooks = [];
    for (const name of ['Payments', 'Search']) {
      const project = (await a.createProject(name)).id;
      // one message per activity (no coalescing window): as many messages as activities press on the robot
      const webhook = (
        await a.post(`/api/projects/${project}/webhooks`, { type: 'DINGTALK', name: 'robot', url: robot.url('robot-1'), activityTypes: ['bb.issue.create'], coalesce: { windowSeconds: 0 } }, 201)
      ).id;
      hooks.push({ project, webhook });
    }
  });

  afterEach(async () => {
    for (const t of apps) await t.close();
    await robot.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never sends more than 20 messages in any 60 s, whichever instance sends, and delivers them all', async () => {
    // one instance at a time first: each would have its own 20 to send if it kept the pace in its memory
    await issues(hooks[0].project, 15, 'first');
    expect(await dispatch(0)).toBe(15);
    advance(10_000);
    await issues(hooks[1].project, 15, 'second');
    expect(await dispatch(1)).toBe(5);
    advance(10_000);
    await issues(hooks[0].project, 15, 'third');
    expect(await dispatch(2)).toBe(0);
    expect(robot.requests).toHaveLength(20);

    // then all three at once, whenever something comes due, until everything went
    const made = [15, 5, 0];
    for (let round = 0; round < 20 && (await statuses()).DELIVERED !== 45; round++) {
      advance(Math.max(1_000, (await nextDue()) - clocks[0].now().getTime()));
      (await dispatchAll()).forEach((n, i) => (made[i] += n));
    }

    expect(await statuses()).toEqual({ DELIVERED: 45 });
    expect(robot.refused()).toBe(0);
    expect(robot.requests).toHaveLength(45);
    expect(robot.busiestWindow()).toBe(20);
    // the robot heard from all of them, and each delivery once
    expect(made.reduce((a, b) => a + b, 0)).toBe(45);
    expect(new Set(robot.requests.map((r) => r.body.markdown.title)).size).toBe(45);
    // 45 messages at 20 a minute: the last went in the third minute
    expect(robot.requests.at(-1)!.at - Date.parse(T0)).toBeGreaterThanOrEqual(2 * MINUTE);
  });

  it('holds every instance for 10 minutes once the robot answered 130101 to any of them', async () => {
    // someone else filled the robot's minute: Herald's first message is refused, and the robot blocks
    robot.sendElsewhere(20);
    await issues(hooks[0].project, 3, 'refused');
    expect(await dispatch(0)).toBe(1);
    expect(robot.refused()).toBe(1);

    // the other instances, the other webhook of the same robot, new activities: nothing goes for 10 minutes
    advance(MINUTE);
    await issues(hooks[1].project, 3, 'held');
    for (let t = MINUTE; t < 10 * MINUTE; t += 30_000) {
      expect(await dispatchAll()).toEqual([0, 0, 0]);
      advance(30_000);
    }
    expect(robot.requests.filter((r) => r.body !== null)).toHaveLength(1);

    // the block over: all six go, the refused one first
    advance(Math.max(0, (await nextDue()) - clocks[0].now().getTime()));
    expect((await dispatchAll()).reduce((a, b) => a + b, 0)).toBe(6);
    expect(await statuses()).toEqual({ DELIVERED: 6 });
    expect(robot.refused()).toBe(1);
    const sent = robot.requests.filter((r) => r.body !== null);
    expect(sent.map((r) => r.taken)).toEqual([false, true, true, true, true, true, true]);
    expect(sent[1].at - sent[0].at).toBe(10 * MINUTE);
  });
});
