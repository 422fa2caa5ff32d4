import { jest } from '@jest/globals';
import { EventStore } from '../../src/event-store/event-store.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Webhook configuration and health are kept in memory, current with the log: a delivery reads none of it from the database. */
describe('the webhooks as the dispatcher knows them', () => {
  let t: TestApp;
  const receivers: Receiver[] = [];
  beforeEach(async () => {
    t = await startTestApp({ env: LOCAL_WEBHOOK_ENV });
  });
  afterEach(async () => {
    await t.close();
    while (receivers.length) await receivers.pop()!.stop();
  });
  const receiver = async () => {
    const r = await new Receiver().start();
    receivers.push(r);
    return r;
  };
  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    return t.app.get(DeliveryDispatcher).runOnce();
  };

  it('follows every change made through the API, without reading the webhook read model per delivery', async () => {
    const [first, second] = [await receiver(), await receiver()];
    const a = api(t);
    const project = await a.createProject('Directory');
    const hook = await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'h', url: first.url(), activityTypes: ['bb.issue.create'] }, 201);
    await a.createIssue(project.id, { name: 'warm-up' });
    expect(await pump()).toBe(1);

    const store = t.app.get(EventStore);
    const reads: string[] = [];
    for (const method of ['query', 'queryOne'] as const) {
      const original = store[method].bind(store) as (sql: string, params?: unknown[]) => Promise<never>;
      jest.spyOn(store, method).mockImplementation(((sql: string, params?: unknown[]) => {
        if (/rm_webhooks/.test(sql)) reads.push(sql);
        return original(sql, params);
      }) as never);
    }
    for (let i = 0; i < 5; i++) await a.createIssue(project.id, { name: `first ${i}` });
    expect(await pump()).toBe(5);
    // a new URL and a new name: the next delivery goes there, under the new name
    await t.http.patch(`/api/projects/${project.id}/webhooks/${hook.id}`).set(t.auth).send({ url: second.url('/moved'), name: 'renamed' }).expect(200);
    await a.createIssue(project.id, { name: 'after the move' });
    expect(await pump()).toBe(1);
    expect(first.received.map((r) => r.json.title)).toEqual(['Issue created - warm-up', ...[0, 1, 2, 3, 4].map((i) => `Issue created - first ${i}`)]);
    expect(second.received.map((r) => [r.path, r.json.title])).toEqual([['/moved', 'Issue created - after the move']]);
    // set inactive: what comes due is skipped
    await t.http.patch(`/api/projects/${project.id}/webhooks/${hook.id}`).set(t.auth).send({ active: false }).expect(200);
    await t.app.get(EventStore).transact((tx) => tx.exec([{ sql: `UPDATE webhook_deliveries SET status = 'PENDING'`, params: [] }]));
    expect(await pump()).toBe(0);
    expect(second.received).toHaveLength(1);
    const skipped = await store.query<{ status: string }>(`SELECT status FROM webhook_deliveries WHERE status = 'SKIPPED'`);
    expect(skipped).toHaveLength(7);
    // the API read the read model for its answers; the dispatcher only to confirm that skip (a decision for good is
    // made on the webhook as committed: see DeliveryDispatcher.deliver), once for the whole claim, not per delivery
    expect(reads.filter((sql) => !/WHERE id = \? AND project_id = \?/.test(sql))).toEqual(['SELECT * FROM rm_webhooks WHERE id = ?']);
  });
});
