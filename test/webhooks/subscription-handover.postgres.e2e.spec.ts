import { randomBytes } from 'node:crypto';
import { EventStore } from '../../src/event-store/event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { LOCAL_WEBHOOK_ENV } from '../support/receiver.js';
import { startTestApp, tempDir, type TestApp } from '../support/test-app.js';

/**
 * Two instances on one PostgreSQL database pass the webhook subscription's lease back and
 * forth (each with a clock of its own, so the leases run out when the test says). The
 * instance that consumes again must map events with the project as it is at that point
 * of the log, not as it was when it last consumed: a webhook added meanwhile gets its
 * deliveries.
 */
describe('the webhook subscription handed over between instances', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const t of apps) await t.close();
    await database?.drop();
  });

  it('an instance taking the lease back does not map events with the project state it cached before', async () => {
    database = await createTestDatabase();
    const dir = tempDir('herald-handover-');
    const env = { ...LOCAL_WEBHOOK_ENV, DATABASE_URL: database.url, HERALD_SECRET_KEY: randomBytes(32).toString('base64') };
    const clockA = new ManualClock('2026-03-01T10:00:00.000Z');
    const clockB = new ManualClock('2026-03-01T10:00:00.000Z');
    // (engine sqlite only keeps startTestApp from making a database of its own: DATABASE_URL above is the shared one)
    const a = await startTestApp({ dir, clock: clockA, env, engine: 'sqlite' });
    apps.push(a);
    const b = await startTestApp({ dir, clock: clockB, env, engine: 'sqlite' });
    apps.push(b);
    const subscriptionA = a.app.get(WebhookSubscription);
    const subscriptionB = b.app.get(WebhookSubscription);
    const lease = WebhookSubscription.LEASE_MS;

    // A consumes: it knows project P, without webhooks
    const project = await api(a).createProject('Handover');
    await api(a).createIssue(project.id, { name: 'one' });
    await subscriptionA.catchUp();

    // A stalls past its lease: B takes over; A, back, finds the lease taken
    clockB.advance(lease + 1000);
    await subscriptionB.catchUp();
    clockA.advance(lease + 1000);
    expect(await subscriptionA.catchUp()).toBe(0);

    // meanwhile, through B: a webhook, and an issue B schedules a delivery for
    const hook = await api(b).post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'h', url: 'http://127.0.0.1:9/hook', activityTypes: ['bb.issue.create'] }, 201);
    await api(b).createIssue(project.id, { name: 'two' });
    await subscriptionB.catchUp();

    // B dies; A takes the lease back once B's has run out, and consumes the next issue
    clockA.advance(2 * lease);
    await api(a).createIssue(project.id, { name: 'three' });
    await subscriptionA.catchUp();

    const rows = await a.app.get(EventStore).query<{ title: string }>(
      `SELECT activity AS title FROM webhook_deliveries WHERE webhook_id = ? ORDER BY event_position`,
      [hook.id],
    );
    expect(rows.map((r) => JSON.parse(r.title).title)).toEqual(['Issue created - two', 'Issue created - three']);
  });
});
