import { randomBytes } from 'node:crypto';
import { EventStore } from '../../src/event-store/event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { configOf, type WebhookRow } from '../../src/webhooks/config/webhook.projection.js';
import type { Attempt } from '../../src/webhooks/delivery/attempt.js';
import type { DeliveryRow } from '../../src/webhooks/delivery/deliveries.js';
import { ThisInstance } from '../../src/webhooks/delivery/instance.js';
import { DeliveryRecorder } from '../../src/webhooks/delivery/recorder.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { LOCAL_WEBHOOK_ENV } from '../support/receiver.js';
import { startTestApp, tempDir, type TestApp } from '../support/test-app.js';

/**
 * Two instances record failed attempts of one webhook at the same time: the run of
 * failures is counted inside each record's transaction, so none is lost, and each
 * health change is decided once, from the count as it is (issue 13: it was read before
 * the transaction, so two instances could both see 3 and both decide the fourth).
 */
describe('recording attempts of one webhook from several instances', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const t of apps) await t.close();
    await database?.drop();
  });

  it('counts every failure once and decides each health change once', async () => {
    database = await createTestDatabase();
    const dir = tempDir('herald-recorder-');
    const env = { ...LOCAL_WEBHOOK_ENV, DATABASE_URL: database.url, HERALD_SECRET_KEY: randomBytes(32).toString('base64') };
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    // (engine sqlite only keeps startTestApp from making a database of its own: DATABASE_URL above is the shared one)
    for (let i = 0; i < 2; i++) apps.push(await startTestApp({ dir, env, clock, engine: 'sqlite' }));
    const [a, b] = apps;
    const project = await api(a).createProject('Recorder');
    const hook = await api(a).post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'h', url: 'http://127.0.0.1:9/hook', activityTypes: ['bb.issue.create'] }, 201);
    for (let i = 0; i < 10; i++) await api(a).createIssue(project.id, { name: `issue ${i}` });
    await a.app.get(WebhookSubscription).catchUp();

    // half the deliveries claimed by each instance, each attempted once and refused with a 500
    const store = a.app.get(EventStore);
    const rows = await store.query<DeliveryRow>(`SELECT * FROM webhook_deliveries ORDER BY event_position`);
    expect(rows).toHaveLength(10);
    const owners = [a, b].map((t) => t.app.get(ThisInstance).id);
    await store.transact((tx) =>
      tx.exec(rows.map((row, i) => ({ sql: `UPDATE webhook_deliveries SET status = 'DELIVERING', lease_owner = ?, lease_until = ? WHERE id = ?`, params: [owners[i % 2], clock.now().getTime() + 60_000, row.id] }))),
    );
    const config = configOf((await store.queryOne<WebhookRow>(`SELECT * FROM rm_webhooks WHERE id = ?`, [hook.id]))!);
    const refused = (): Attempt => ({
      request: { url: 'http://127.0.0.1:9/hook', headers: {}, body: '{}' },
      response: { kind: 'response', status: 500, headers: {}, body: 'boom', durationMs: 3 },
      verdict: { kind: 'retry', reason: 'HTTP 500: boom' },
      startedAt: clock.now(),
      durationMs: 3,
    });
    const claimed = async (t: TestApp, i: number) => (await t.app.get(EventStore).queryOne<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE id = ?`, [rows[i].id]))!;
    // each instance records its attempts one after another, both at once
    await Promise.all(
      [a, b].map(async (t, k) => {
        for (let i = k; i < rows.length; i += 2) await t.app.get(DeliveryRecorder).record({ delivery: await claimed(t, i), hook: config, attempt: refused(), test: false });
      }),
    );

    const failures = await store.queryOne<{ consecutive: number }>(`SELECT consecutive FROM webhook_failures WHERE webhook_id = ?`, [hook.id]);
    expect(Number(failures!.consecutive)).toBe(10);
    const changes = (await api(a).get('/api/events?limit=1000')).filter((e: { type: string }) => e.type === 'webhook.health-changed').map((e: { data: any }) => e.data);
    // one event per change of the rest, each decided from the count as it was: 4, 5, … 10 failures, never one twice
    expect(changes.map((c: { consecutiveFailures: number }) => c.consecutiveFailures)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(changes.at(-1)).toMatchObject({ state: 'TEMPORARILY_DISABLED', disabledUntil: new Date(clock.now().getTime() + 64 * 60_000).toISOString(), cause: 'failures' });
    expect(await api(b).get(`/api/projects/${project.id}/webhooks/${hook.id}`)).toMatchObject({ state: 'TEMPORARILY_DISABLED', consecutiveFailures: 10 });
    const statuses = await store.query<{ status: string; attempt_count: number }>(`SELECT status, attempt_count FROM webhook_deliveries`);
    expect(statuses.every((d) => d.status === 'RETRYING' && Number(d.attempt_count) === 1)).toBe(true);
  });
});
