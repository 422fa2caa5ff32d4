import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStore } from '../../src/event-store/event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV } from '../support/receiver.js';
import { startTestApp, tempDir, type TestApp } from '../support/test-app.js';

/** A DingTalk robot as DingTalk runs one: 20 messages a minute, then errcode 130101 (and a 10-minute block). */
class EmulatedRobot {
  readonly accepted: { at: number; text: string }[] = [];
  throttled = 0;
  private server: Server | null = null;
  port = 0;
  constructor(private readonly clock: ManualClock) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const now = this.clock.now().getTime();
        const lastMinute = this.accepted.filter((m) => m.at > now - 60_000).length;
        res.writeHead(200, { 'content-type': 'application/json' });
        if (lastMinute >= 20) {
          this.throttled++;
          res.end(JSON.stringify({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' }));
          return;
        }
        this.accepted.push({ at: now, text: (JSON.parse(body) as { markdown: { text: string } }).markdown.text });
        res.end(JSON.stringify({ errcode: 0, errmsg: 'ok' }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

describe('coalescing a burst for a chat room', () => {
  let t: TestApp;
  let clock: ManualClock;
  let robot: EmulatedRobot;
  beforeEach(async () => {
    clock = new ManualClock('2026-03-01T10:00:00.000Z');
    robot = await new EmulatedRobot(clock).start();
    t = await startTestApp({ clock, env: LOCAL_WEBHOOK_ENV });
  });
  afterEach(async () => {
    await t.close();
    await robot.stop();
  });

  it('gets 120 task changes to a DingTalk robot complete, at most 20 messages a minute, with no 130101', async () => {
    const a = api(t);
    const project = await a.createProject('Burst');
    const hook = (await a.post(`/api/projects/${project.id}/webhooks`, { type: 'DINGTALK', name: 'room', url: `http://127.0.0.1:${robot.port}/robot/send?access_token=t`, activityTypes: ['bb.pipeline.task.status.update'] }, 201)).id;
    const tasks = Array.from({ length: 60 }, (_, i) => ({ name: `db${i}` }));
    const issue = await a.createIssue(project.id, { name: 'Sixty-task rollout', pipeline: { stages: [{ name: 'prod', tasks }] } });
    const ids: number[] = issue.pipeline.stages[0].tasks.map((task: { id: number }) => task.id);
    const pump = async () => {
      await t.app.get(WebhookSubscription).catchUp();
      await t.app.get(DeliveryDispatcher).runOnce();
    };
    // 120 changes within a minute: each task is released and starts, the subscription and the dispatcher keeping up
    for (let i = 0; i < 120; i++) {
      const task = ids[i % 60];
      await a.task(issue.id, task, { status: i < 60 ? 'PENDING' : 'RUNNING' });
      if (i % 10 === 9) {
        await pump();
        clock.advance(4_000);
      }
    }
    for (let minute = 0; minute < 5; minute++) {
      clock.advance(60_000);
      await pump();
    }

    expect(robot.throttled).toBe(0);
    for (const m of robot.accepted) expect(robot.accepted.filter((o) => o.at > m.at - 60_000 && o.at <= m.at).length).toBeLessThanOrEqual(20);
    expect(robot.accepted.length).toBeLessThan(10);
    // every activity in exactly one message: each delivery is the message or carried by one that was delivered
    const rows = await t.app.get(EventStore).query<{ id: string; status: string; carried_by: string | null }>(`SELECT id, status, carried_by FROM webhook_deliveries WHERE webhook_id = ?`, [hook]);
    expect(rows).toHaveLength(120);
    const messages = rows.filter((r) => r.status === 'DELIVERED');
    expect(messages).toHaveLength(robot.accepted.length);
    const carriers = new Set(messages.map((m) => m.id));
    expect(rows.filter((r) => r.status === 'COALESCED').every((r) => carriers.has(r.carried_by!))).toBe(true);
    expect(messages.length + rows.filter((r) => r.status === 'COALESCED').length).toBe(120);
    // the messages list each activity once (what overflows a message is counted in its last line)
    const listed = robot.accepted.reduce((n, m) => {
      const lines = (m.text.match(/^##### \*\*(•|✅|⚠️|❗) /gm) ?? []).length;
      const more = /(\d+) more of \d+ updates/.exec(m.text);
      return n + (lines === 0 ? 1 : lines + (more ? Number(more[1]) : 0));
    }, 0);
    expect(listed).toBe(120);
  });
});

describe('a coalescing window across a restart', () => {
  it('keeps the window: the first activity after a restart, within a minute of the last message, waits for the window to end', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    const robot = await new EmulatedRobot(clock).start();
    const dir = tempDir();
    const pump = async (app: TestApp) => {
      await app.app.get(WebhookSubscription).catchUp();
      await app.app.get(DeliveryDispatcher).runOnce();
    };
    let t = await startTestApp({ dir, clock, env: LOCAL_WEBHOOK_ENV });
    try {
      const a = api(t);
      const project = await a.createProject('Restarted');
      await a.post(`/api/projects/${project.id}/webhooks`, { type: 'DINGTALK', name: 'room', url: `http://127.0.0.1:${robot.port}/robot/send?access_token=t`, activityTypes: ['bb.issue.comment.create'] }, 201);
      const issue = await a.createIssue(project.id, { name: 'Across a restart' });
      await a.comment(issue.id, 'before the restart');
      await pump(t);
      expect(robot.accepted).toHaveLength(1);
      await t.close();

      clock.advance(20_000);
      t = await startTestApp({ dir, clock, env: LOCAL_WEBHOOK_ENV });
      await api(t).comment(issue.id, 'after the restart');
      await pump(t);
      // 20 s after the last message: the window (60 s, DingTalk's default) is not over
      expect(robot.accepted).toHaveLength(1);
      clock.advance(40_000);
      await pump(t);
      expect(robot.accepted).toHaveLength(2);
      expect(robot.accepted[1]).toMatchObject({ at: Date.parse('2026-03-01T10:01:00.000Z'), text: expect.stringContaining('after the restart') });
    } finally {
      await t.close();
      await robot.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
