import { ManualClock } from '../../src/shared/clock.js';
import { hourWindow, toHours } from '../../src/console/delivery-stats.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const ok = { status: 200, body: '{"code":0}', headers: { 'content-type': 'application/json' } };
const empty = { delivered: 0, failed: 0, skipped: 0, pending: 0 };

describe('hourly delivery counts', () => {
  it('the window is the current hour and the 23 before it, up to now', () => {
    const { from, to } = hourWindow(new Date('2026-03-01T10:30:00.000Z'));
    expect(new Date(from).toISOString()).toBe('2026-02-28T11:00:00.000Z');
    expect(new Date(to).toISOString()).toBe('2026-03-01T10:30:00.000Z');
    const hours = toHours([{ hour: 0, status: 'HELD', n: 2 }, { hour: 0, status: 'RETRYING', n: 1 }, { hour: 23, status: 'SKIPPED', n: 4 }, { hour: 24, status: 'FAILED', n: 9 }], from);
    expect(hours).toHaveLength(24);
    expect(hours[0]).toEqual({ start: '2026-02-28T11:00:00.000Z', ...empty, pending: 3 });
    expect(hours[23]).toEqual({ start: '2026-03-01T10:00:00.000Z', ...empty, skipped: 4 });
  });

  describe('GET /api/projects/:projectId/webhooks/:webhookId/deliveries/hourly', () => {
    let t: TestApp;
    let receiver: Receiver;
    let clock: ManualClock;
    let a: ReturnType<typeof api>;

    beforeAll(async () => {
      receiver = await new Receiver().start();
      clock = new ManualClock('2026-02-28T09:30:00.000Z');
      t = await startTestApp({ clock, env: LOCAL_WEBHOOK_ENV });
      a = api(t);
    });
    afterAll(async () => {
      await t.close();
      await receiver.stop();
    });

    const pump = async () => {
      await t.app.get(WebhookSubscription).catchUp();
      return t.app.get(DeliveryDispatcher).runOnce();
    };

    it('counts one webhook’s deliveries per hour by their final status, exactly at the edges', async () => {
      const projectId = (await a.createProject('Stats')).id;
      const hook = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'svc', url: receiver.url('/a'), activityTypes: ['bb.issue.create'] }, 201)).id;
      const other = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'other', url: receiver.url('/b'), activityTypes: ['bb.issue.create'] }, 201)).id;
      const issueAt = async (time: string, ...replies: object[]) => {
        clock.set(time);
        receiver.answer(...(replies as never[]));
        await a.createIssue(projectId);
        await pump();
      };
      await issueAt('2026-02-28T09:30:00.000Z', ok); // 25 h before: outside
      await issueAt('2026-02-28T10:59:59.999Z', ok); // a millisecond before the window
      await issueAt('2026-02-28T11:00:00.000Z', ok); // the first hour's first millisecond
      await issueAt('2026-02-28T11:15:00.000Z', ok);
      await issueAt('2026-03-01T09:59:59.999Z', { status: 400, body: 'bad' }); // FAILED at once (both webhooks)
      await issueAt('2026-03-01T10:20:00.000Z', { status: 500, body: 'boom' }); // RETRYING (both webhooks)
      clock.set('2026-03-01T10:25:00.000Z');
      receiver.answer(ok);
      expect((await a.post(`/api/projects/${projectId}/webhooks/${hook}/test`, {})).delivered).toBe(true); // a test counts too
      clock.set('2026-03-01T10:30:00.000Z');

      const stats = await a.get(`/api/projects/${projectId}/webhooks/${hook}/deliveries/hourly`);
      expect(stats).toMatchObject({ webhookId: hook, from: '2026-02-28T11:00:00.000Z', to: '2026-03-01T10:30:00.000Z' });
      expect(stats.hours).toHaveLength(24);
      expect(stats.hours.map((h: { start: string }) => h.start)).toEqual(Array.from({ length: 24 }, (_, i) => new Date(Date.parse('2026-02-28T11:00:00.000Z') + i * 3_600_000).toISOString()));
      const counts = stats.hours.map(({ start: _, ...c }: { start: string }) => c);
      expect(counts[0]).toEqual({ ...empty, delivered: 2 });
      expect(counts[22]).toEqual({ ...empty, failed: 1 });
      expect(counts[23]).toEqual({ ...empty, delivered: 1, pending: 1 });
      expect(counts.filter((_: unknown, i: number) => ![0, 22, 23].includes(i))).toEqual(Array(21).fill(empty));

      // the other webhook has its own counts (no test message)
      const others = (await a.get(`/api/projects/${projectId}/webhooks/${other}/deliveries/hourly`)).hours;
      expect(others[23]).toMatchObject({ delivered: 0, pending: 1 });
    });

    it('answers 404 for a webhook of another project', async () => {
      const first = (await a.createProject('First')).id;
      const second = (await a.createProject('Second')).id;
      const hook = (await a.post(`/api/projects/${first}/webhooks`, { type: 'CUSTOM', name: 'x', url: receiver.url('/c'), activityTypes: ['bb.issue.create'] }, 201)).id;
      const res = await t.http.get(`/api/projects/${second}/webhooks/${hook}/deliveries/hourly`).set(t.auth);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    });
  });
});
