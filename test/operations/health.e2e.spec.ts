import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { startTestApp } from '../support/test-app.js';

describe('health', () => {
  it('is live and ready on a fresh start, in terminus\' report shape', async () => {
    const t = await startTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'true' } });
    try {
      expect((await t.http.get('/health/live').expect(200)).body).toMatchObject({ status: 'ok' });
      // ready within moments: the background subscription reads the start's own events (the admin's) (on
      // PostgreSQL once older transactions on the server have ended; on a busy machine it may take seconds)
      let ready = await t.http.get('/health/ready');
      for (const deadline = Date.now() + 10_000; (ready.status !== 200 || ready.body.info.webhooks.lagEvents !== 0) && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        ready = await t.http.get('/health/ready');
      }
      expect({ status: ready.status, body: ready.body }).toMatchObject({ status: 200 });
      expect(ready.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, webhooks: { status: 'up', lagEvents: 0, dispatcher: 'running' } } });
    } finally {
      await t.close();
    }
  });

  it('is not ready when the webhook subscription falls behind the log, or the dispatcher stopped', async () => {
    const t = await startTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'true', HERALD_READY_MAX_LAG_EVENTS: '2' } });
    try {
      // the subscription stalls: events pile up behind it
      await t.app.get(WebhookSubscription).onModuleDestroy();
      const a = api(t);
      const project = await a.createProject('Lagging');
      await a.createIssue(project.id);
      await a.createIssue(project.id);
      const lagging = await t.http.get('/health/ready').expect(503);
      expect(lagging.body).toMatchObject({ status: 'error', error: { webhooks: { status: 'down', lagEvents: expect.any(Number), message: expect.stringContaining('lags the log') } } });
      expect(lagging.body.error.webhooks.lagEvents).toBeGreaterThan(2);
      await t.app.get(DeliveryDispatcher).onModuleDestroy();
      const stopped = await t.http.get('/health/ready').expect(503);
      expect(stopped.body.error.webhooks).toMatchObject({ dispatcher: 'stopped', message: 'the delivery dispatcher is not running' });
      // liveness does not depend on either
      await t.http.get('/health/live').expect(200);
    } finally {
      await t.close();
    }
  });
});
