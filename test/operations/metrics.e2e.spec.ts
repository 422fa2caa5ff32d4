import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp } from '../support/test-app.js';

/** Prometheus text format → { 'name{labels}': value }, failing on any line that is not well formed. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return samples;
}

describe('metrics', () => {
  it('exposes HTTP, event, delivery, queue and webhook metrics after a workflow', async () => {
    const receiver = await new Receiver().start();
    const t = await startTestApp({ env: LOCAL_WEBHOOK_ENV });
    try {
      const a = api(t);
      const project = await a.createProject('Measured');
      await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'm', url: receiver.url(), activityTypes: ['bb.issue.create', 'bb.issue.comment.create'] }, 201);
      const issue = await a.createIssue(project.id);
      await a.comment(issue.id, 'counted');
      await t.http.get('/api/issues/999').set(t.auth).expect(404);
      await t.app.get(WebhookSubscription).catchUp();
      await t.app.get(DeliveryDispatcher).runOnce();

      const res = await t.http.get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const m = parse(res.text);
      expect(m.get('herald_events_appended_total{type="issue.created"}')).toBe(1);
      expect(m.get('herald_events_appended_total{type="issue.comment-created"}')).toBe(1);
      expect(m.get('herald_events_appended_total{type="webhook.created"}')).toBe(1);
      expect(m.get('herald_http_request_duration_seconds_count{method="POST",route="/api/projects/:projectId/issues",status="201"}')).toBe(1);
      expect(m.get('herald_http_request_duration_seconds_count{method="GET",route="/api/issues/:issueId",status="404"}')).toBe(1);
      expect(m.get('herald_webhook_deliveries_total{provider="CUSTOM",status="DELIVERED"}')).toBe(2);
      expect(m.get('herald_webhook_attempt_duration_seconds_count{provider="CUSTOM",verdict="delivered"}')).toBe(2);
      expect(m.get('herald_webhook_delivery_queue{state="DELIVERED"}')).toBe(2);
      expect(m.get('herald_webhooks{state="ACTIVE"}')).toBe(1);
      expect(m.get('herald_subscription_lag_events')).toBe(0);
      expect(m.get('herald_database_round_trips_total')).toBeGreaterThan(0);
      expect(m.has('herald_process_cpu_user_seconds_total')).toBe(true);
    } finally {
      await t.close();
      await receiver.stop();
    }
  });
});
