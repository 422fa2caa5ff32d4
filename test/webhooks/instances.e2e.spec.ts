import { rmSync } from 'node:fs';
import { EventStore } from '../../src/event-store/event-store.js';
import { systemClock } from '../../src/shared/clock.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { queryDatabase as query } from '../support/database-query.js';
import { until } from '../support/process-calls.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, tempDir, testDatabaseUrl, testEngine, type TestApp } from '../support/test-app.js';

/**
 * Instances and their heartbeats: the leases of a dead instance are released at once
 * (on SQLite every other instance is dead when a process starts: one process per file;
 * on PostgreSQL those whose heartbeat stopped), a live one's are left alone, and an
 * instance that stops gives its own back and removes its row.
 */

describe('instances and their leases', () => {
  let receiver: Receiver;
  let dir: string;
  let url: string;
  const apps: TestApp[] = [];
  /** With its workers on, on real time (heartbeats and leases are compared with the time now). */
  const start = async (env: Record<string, string> = {}) => {
    const t = await startTestApp({ dir, clock: systemClock, env: { ...LOCAL_WEBHOOK_ENV, ...env } });
    apps.push(t);
    return t;
  };

  beforeEach(async () => {
    receiver = await new Receiver().start();
    dir = tempDir('herald-instances-');
    url = await testDatabaseUrl(dir);
  });
  afterEach(async () => {
    while (apps.length) await apps.pop()!.close();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('releases the leases of an instance whose heartbeat stopped at once, and leaves a live one\'s alone', async () => {
    // three deliveries queued (nothing sent: background workers off), then held by other instances
    const first = await start();
    const a = api(first);
    const project = await a.createProject('Instances');
    await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'h', url: receiver.url(), activityTypes: ['bb.issue.create'] }, 201);
    for (const name of ['dead 1', 'dead 2', 'live']) await a.createIssue(project.id, { name });
    await first.app.get(WebhookSubscription).catchUp();
    const now = Date.now();
    const hold = async (owner: string, title: string) =>
      (
        await first.app.get(EventStore).transact((tx) =>
          tx.exec([
            {
              sql: `UPDATE webhook_deliveries SET status = 'DELIVERING', lease_owner = ?, lease_until = ? WHERE activity LIKE ?`,
              params: [owner, now + 3_600_000, `%"title":"Issue created - ${title}"%`],
            },
          ]),
        )
      );
    await hold('ghost', 'dead 1');
    await hold('ghost', 'dead 2');
    await hold('alive', 'live');
    const stale = 60_000;
    await first.app.get(EventStore).transact((tx) =>
      tx.exec([
        { sql: `INSERT INTO herald_instances (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)`, params: ['ghost', 'elsewhere', 1, now - stale, now - stale] },
        { sql: `INSERT INTO herald_instances (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)`, params: ['alive', 'elsewhere', 2, now, now + stale] },
      ]),
    );
    await first.close();
    apps.pop();

    // an instance with real time and its workers on: the dead instance's deliveries go out at once, not in an hour
    const second = await start({ HERALD_BACKGROUND_WORKERS: 'true' });
    const titles = () => receiver.received.map((r) => r.json.title).sort();
    if (testEngine() === 'sqlite') {
      // one process per file: the "live" row is a process that died too
      await until(() => receiver.received.length === 3, 'every other process\'s deliveries');
      expect(titles()).toEqual(['Issue created - dead 1', 'Issue created - dead 2', 'Issue created - live']);
    } else {
      await until(() => receiver.received.length === 2, 'the dead instance\'s deliveries');
      // PostgreSQL: another instance with a fresh heartbeat keeps what it holds. Once this instance has beaten
      // (each beat frees the leases of the instances it finds dead) and a later delivery has gone out after
      // that beat, the live instance's delivery would have gone out too if it had been freed
      const ownBeat = async () => (await query<{ heartbeat_at: string }>(url, `SELECT heartbeat_at FROM herald_instances WHERE id NOT IN ('ghost', 'alive')`)).map((row) => Number(row.heartbeat_at));
      const [startedAt] = await ownBeat();
      await until(async () => (await ownBeat())[0] > startedAt, 'a heartbeat of the new instance');
      await api(second).createIssue(project.id, { name: 'marker' });
      await until(() => receiver.received.length >= 3, 'the marker\'s delivery');
      expect(titles()).toEqual(['Issue created - dead 1', 'Issue created - dead 2', 'Issue created - marker']);
      // once the marker is recorded (it arrives before its record commits), only the live instance holds anything
      const holders = () => query<{ lease_owner: string }>(url, `SELECT lease_owner FROM webhook_deliveries WHERE status = 'DELIVERING'`);
      await until(async () => (await holders()).every((row) => row.lease_owner === 'alive'), 'the marker\'s delivery, recorded');
      expect(await holders()).toEqual([{ lease_owner: 'alive' }]);
    }
    const instances = await query<{ id: string }>(url, `SELECT id FROM herald_instances WHERE id IN ('ghost', 'alive') ORDER BY id`);
    expect(instances.map((i) => i.id)).toEqual(testEngine() === 'sqlite' ? [] : ['alive']);
  });

  it('gives its own leases back and removes its heartbeat row when it stops', async () => {
    const first = await start();
    const a = api(first);
    const project = await a.createProject('Stopping');
    await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'h', url: receiver.url(), activityTypes: ['bb.issue.create'] }, 201);
    for (let i = 0; i < 4; i++) await a.createIssue(project.id, { name: `stop ${i}` });
    await first.app.get(WebhookSubscription).catchUp();
    await first.close();
    apps.pop();
    receiver.delayMs = 1_000; // the first attempt is in flight when it stops; the rest of the batch is claimed
    const t = await start({ HERALD_BACKGROUND_WORKERS: 'true', WEBHOOK_TIMEOUT_MS: '5000' });
    await until(async () => (await query(url, `SELECT id FROM webhook_deliveries WHERE status = 'DELIVERING'`)).length >= 2 && receiver.received.length > 0, 'claimed deliveries');
    expect(await query(url, `SELECT id FROM herald_instances`)).toHaveLength(1);
    await t.close();
    apps.pop();
    expect(await query(url, `SELECT id FROM webhook_deliveries WHERE status = 'DELIVERING'`)).toEqual([]);
    expect(await query(url, `SELECT id FROM herald_instances`)).toEqual([]);
    // the attempt in flight was let finish and recorded; the rest wait as they did before being claimed
    expect((await query<{ status: string }>(url, `SELECT status FROM webhook_deliveries ORDER BY event_position`)).map((d) => d.status)).toEqual(['DELIVERED', 'PENDING', 'PENDING', 'PENDING']);
  });
});
