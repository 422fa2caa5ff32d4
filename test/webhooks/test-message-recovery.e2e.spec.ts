import { EventStore } from '../../src/event-store/event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { testActivity } from '../../src/webhooks/activity-mapping.js';
import { ThisInstance } from '../../src/webhooks/delivery/instance.js';
import { DeliveryQueue } from '../../src/webhooks/delivery/queue.js';
import { DeliveryRetention } from '../../src/webhooks/delivery/retention.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const DAY = 86_400_000;

/**
 * Test messages have positions of their own below 1 (issue 26): one whose attempt never got its
 * result (its process died) is failed, saying so, by either way a dead attempt is found, shown
 * as a test message (no event position), never queued, and swept after the retention.
 */
describe('a test message interrupted before its result was recorded', () => {
  let t: TestApp;
  let a: ReturnType<typeof api>;
  let clock: ManualClock;
  let receiver: Receiver;
  let projectId: number;
  let hookId: number;

  const deliveries = async () => (await a.get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries?limit=50`)).items as { id: string; eventPosition: number | null; status: string; lastError: string | null }[];
  /** A test message as an attempt that died leaves it: DELIVERING under this instance's lease, never recorded. */
  const interruptedTest = async (id: string) => {
    const activity = testActivity('svc', { id: projectId, name: 'Tests' }, { brand: 'Herald', externalUrl: 'https://herald.example.com', bot: { id: 1, name: 'Herald', email: 'bot@x' }, now: clock.now() });
    return t.app.get(DeliveryQueue).insertTest(id, hookId, projectId, activity, clock.now().getTime());
  };

  beforeEach(async () => {
    receiver = await new Receiver().start();
    clock = new ManualClock('2026-03-01T10:00:00.000Z');
    t = await startTestApp({ clock, env: LOCAL_WEBHOOK_ENV });
    a = api(t);
    projectId = (await a.createProject('Tests')).id;
    hookId = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'svc', url: receiver.url(), activityTypes: ['bb.issue.create'] }, 201)).id;
  });
  afterEach(async () => {
    await t.close();
    await receiver.stop();
  });

  it('is failed once its lease has run out, listed as a test message, never claimed, and swept after the retention', async () => {
    await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/test`).set(t.auth).expect(200);
    const first = await interruptedTest('msg_interrupted_1');
    const second = await interruptedTest('msg_interrupted_2');
    // each its own position below 1, after the test sent through the API
    expect([first.event_position, second.event_position]).toEqual([-2, -3]);
    expect(await t.app.get(DeliveryQueue).claim(hookId, false)).toEqual([]);

    clock.advance(60_000);
    await t.app.get(DeliveryRetention).cleanup();
    const listed = await deliveries();
    expect(listed.filter((d) => d.id.startsWith('msg_interrupted'))).toEqual([
      expect.objectContaining({ id: 'msg_interrupted_2', eventPosition: null, status: 'FAILED', lastError: 'interrupted before its result was recorded' }),
      expect.objectContaining({ id: 'msg_interrupted_1', eventPosition: null, status: 'FAILED', lastError: 'interrupted before its result was recorded' }),
    ]);
    // not sent again: a new test is the way
    await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/deliveries/msg_interrupted_1/redeliver`).set(t.auth).expect(409);

    clock.advance(15 * DAY);
    expect(await t.app.get(DeliveryRetention).cleanup()).toBe(3);
    expect(await deliveries()).toEqual([]);
  });

  it('is failed at once when its instance is found dead (its leases freed), its queued deliveries given back', async () => {
    await interruptedTest('msg_interrupted_3');
    const owner = t.app.get(ThisInstance).id;
    await t.app.get(EventStore).transact((tx) => tx.exec(t.app.get(DeliveryQueue).freeLeases({ of: [owner] }, clock.now().getTime())));
    expect(await deliveries()).toEqual([expect.objectContaining({ id: 'msg_interrupted_3', eventPosition: null, status: 'FAILED', lastError: 'interrupted before its result was recorded' })]);
  });
});
