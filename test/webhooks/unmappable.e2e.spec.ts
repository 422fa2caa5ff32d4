import { EventStore } from '../../src/event-store/event-store.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * A message Herald cannot build is its own bug, and it must show: an event that cannot be
 * mapped to an activity, or an activity that cannot be rendered, becomes a FAILED delivery
 * with the error as its reason (in the delivery log, hence the console), the subscription
 * goes on, and the webhook's health is not charged for it.
 */
describe('messages that cannot be built', () => {
  let t: TestApp;
  let receiver: Receiver;
  let projectId: number;
  let hookId: number;
  beforeEach(async () => {
    receiver = await new Receiver().start();
    t = await startTestApp({ env: LOCAL_WEBHOOK_ENV });
    projectId = (await api(t).createProject('Unbuildable')).id;
    hookId = (await api(t).post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'h', url: receiver.url(), activityTypes: ['bb.issue.create', 'bb.issue.field.update'] }, 201)).id;
  });
  afterEach(async () => {
    await t.close();
    await receiver.stop();
  });
  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    return t.app.get(DeliveryDispatcher).runOnce();
  };
  const deliveries = async () => (await api(t).get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries?limit=100`)).items as { id: string; status: string; lastError: string | null; attemptCount: number }[];
  const hook = () => api(t).get(`/api/projects/${projectId}/webhooks/${hookId}`);

  it('turns an event that cannot be mapped into a FAILED delivery saying why, and goes on with the next ones', async () => {
    const first = await api(t).createIssue(projectId, { name: 'first' });
    // an event no command would append (a name that is a number): older logs may hold such things
    const store = t.app.get(EventStore);
    await store.transact(async (tx) => {
      const version = await tx.streamVersion(`issue-${first.id}`);
      await tx.append(`issue-${first.id}`, version, [{ type: 'issue.field-updated', schemaVersion: 1, data: { issueId: first.id, projectId, field: 'name', from: 'first', to: 42 } }], {
        metadata: { actorId: 2, correlationId: 'test', causationId: null },
      });
    });
    await api(t).createIssue(projectId, { name: 'second' });
    expect(await pump()).toBe(2);
    expect(receiver.received.map((r) => r.json.title)).toEqual(['Issue created - first', 'Issue created - second']);
    const failed = (await deliveries()).filter((d) => d.status === 'FAILED');
    expect(failed).toEqual([
      expect.objectContaining({ attemptCount: 0, lastError: expect.stringMatching(/^could not map event \d+ \(issue\.field-updated\) to an activity: .+ is not a function/) }),
    ]);
    expect(await hook()).toMatchObject({ state: 'ACTIVE', consecutiveFailures: 0 });

    // redelivered, it fails the same way, recorded, without a request and without charging the webhook
    await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/deliveries/${failed[0].id}/redeliver`).set(t.auth).expect(202);
    expect(await t.app.get(DeliveryDispatcher).runOnce()).toBe(1);
    const detail = await api(t).get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries/${failed[0].id}`);
    expect(detail).toMatchObject({ status: 'FAILED', attemptCount: 1, lastError: failed[0].lastError });
    expect(detail.attempts).toEqual([expect.objectContaining({ number: 1, verdict: 'failed', reason: failed[0].lastError })]);
    expect(receiver.received).toHaveLength(2);
    expect(await hook()).toMatchObject({ state: 'ACTIVE', consecutiveFailures: 0 });
  });

  it('fails a delivery whose message cannot be rendered at once, recorded, without charging the webhook', async () => {
    await api(t).createIssue(projectId, { name: 'broken' });
    await t.app.get(WebhookSubscription).catchUp();
    // an activity the provider cannot render (no actor, no project)
    await t.app.get(EventStore).transact((tx) => tx.exec([{ sql: `UPDATE webhook_deliveries SET activity = ?`, params: [JSON.stringify({ type: 'bb.issue.create', title: 'x' })] }]));
    expect(await t.app.get(DeliveryDispatcher).runOnce()).toBe(1);
    const [delivery] = await deliveries();
    expect(delivery).toMatchObject({ status: 'FAILED', attemptCount: 1, lastError: expect.stringMatching(/^could not render the message: /) });
    const detail = await api(t).get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries/${delivery.id}`);
    expect(detail.attempts).toEqual([expect.objectContaining({ verdict: 'failed', reason: delivery.lastError })]);
    expect(receiver.received).toEqual([]);
    expect(await hook()).toMatchObject({ state: 'ACTIVE', consecutiveFailures: 0 });
  });
});
