import { randomBytes } from 'node:crypto';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { OtlpReceiver } from '../support/otlp-receiver.js';
import { until } from '../support/process-calls.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The trace context each command's events keep, and what receivers get, with tracing on and off. */
describe('trace context', () => {
  let receiver: Receiver;
  let otlp: OtlpReceiver;
  let t: TestApp;
  beforeEach(async () => {
    receiver = await new Receiver().start();
    otlp = await new OtlpReceiver().start();
  });
  afterEach(async () => {
    // closing the app exports what its tracing still holds: the OTLP receiver stops after it
    await t.close();
    await Promise.all([receiver.stop(), otlp.stop()]);
  });

  async function issueWithWebhook(): Promise<{ projectId: number; issueId: number; hookId: number }> {
    const projectId = (await api(t).createProject('Traced')).id;
    const hookId = (await api(t).post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'h', url: receiver.url(), activityTypes: ['bb.issue.comment.create'] }, 201)).id;
    const issueId = (await api(t).createIssue(projectId, { name: 'traced' })).id;
    return { projectId, issueId, hookId };
  }

  const commentsMetadata = async () =>
    ((await t.http.get('/api/events?limit=1000').set(t.auth)).body as { type: string; metadata: Record<string, unknown> }[]).filter((e) => e.type === 'issue.comment-created').map((e) => e.metadata);

  it('keeps each command’s own trace with its events, even when commands share one transaction', async () => {
    {
      t = await startTestApp({ env: { ...LOCAL_WEBHOOK_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_BSP_SCHEDULE_DELAY: '20' } });
      const { issueId, projectId, hookId } = await issueWithWebhook();
      // arriving together, these commit in one SQLite transaction (each in its own SAVEPOINT)
      const traces = Array.from({ length: 8 }, () => hex(16));
      await Promise.all(
        traces.map((traceId, i) =>
          t.http.post(`/api/issues/${issueId}/comments`).set(t.auth).set('traceparent', `00-${traceId}-${hex(8)}-01`).send({ content: `comment ${i}` }).expect(201),
        ),
      );
      const stored = await commentsMetadata();
      expect(stored.map((m) => String(m.traceparent).split('-')[1]).sort()).toEqual([...traces].sort());
      // each event names its own append's span, exported in its own trace
      await until(() => traces.every((traceId) => otlp.trace(traceId).some((s) => s.name === 'append issue')), 'every append span');
      for (const metadata of stored) {
        const [, traceId, spanId] = String(metadata.traceparent).split('-');
        expect(otlp.trace(traceId).find((s) => s.spanId === spanId)?.name).toBe('append issue');
      }
      // a test message is a child of its request: the receiver sees the caller's trace
      const testTrace = hex(16);
      await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/test`).set(t.auth).set('traceparent', `00-${testTrace}-${hex(8)}-01`).expect(200);
      expect(String(receiver.received[0].headers.traceparent)).toMatch(new RegExp(`^00-${testTrace}-[0-9a-f]{16}-01$`));
      // and a delivery's attempt is in its command's trace
      await t.app.get(WebhookSubscription).catchUp();
      await t.app.get(DeliveryDispatcher).runOnce();
      expect(receiver.received.slice(1).map((r) => String(r.headers.traceparent).split('-')[1]).sort()).toEqual([...traces].sort());
    }
  });

  it('schedules nothing for a project without webhooks, and makes no span of it', async () => {
    t = await startTestApp({ env: { ...LOCAL_WEBHOOK_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_BSP_SCHEDULE_DELAY: '20' } });
    const projectId = (await api(t).createProject('Quiet')).id;
    const issueId = (await api(t).createIssue(projectId, { name: 'no webhooks' })).id;
    const traceId = hex(16);
    await t.http.post(`/api/issues/${issueId}/comments`).set(t.auth).set('traceparent', `00-${traceId}-${hex(8)}-01`).send({ content: 'unheard' }).expect(201);
    await t.app.get(WebhookSubscription).catchUp();
    // closing exports everything the app traced
    await t.close();
    expect(otlp.trace(traceId).map((s) => s.name).sort()).toEqual(['POST /api/issues/:issueId/comments', 'append issue']);
    // closed already: nothing left for afterEach to close
    t = { close: async () => undefined } as unknown as TestApp;
  });

  it('adds nothing when tracing is off: no trace context in events, no traceparent to receivers', async () => {
    t = await startTestApp({ env: LOCAL_WEBHOOK_ENV });
    const { issueId } = await issueWithWebhook();
    await t.http.post(`/api/issues/${issueId}/comments`).set(t.auth).set('traceparent', `00-${hex(16)}-${hex(8)}-01`).send({ content: 'untraced' }).expect(201);
    expect(await commentsMetadata()).toEqual([{ actorId: 2, correlationId: expect.any(String), causationId: null }]);
    await t.app.get(WebhookSubscription).catchUp();
    await t.app.get(DeliveryDispatcher).runOnce();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0].headers.traceparent).toBeUndefined();
    expect(receiver.received[0].headers.tracestate).toBeUndefined();
  });
});
