import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { ChildHerald } from '../support/child-herald.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { caller, until } from '../support/process-calls.js';
import { Receiver } from '../support/receiver.js';
import { tempDir, testDatabaseUrl, testEngine } from '../support/test-app.js';

const TOKEN = 'trace-test-admin-token-0123456789';
const call = caller(TOKEN);
const SIGNING_SECRET = `whsec_${Buffer.from('tracing-signing-secret-012345678').toString('base64')}`;
// the parts of the webhooks' configuration and of the message no span may hold
const SECRET_PATH = 'pathtoken7f3a9c';
const SECRET_QUERY = 'querytoken51be0d';
const SLACK_SECRET = 'slacksecret88aa11';
const HEADER_VALUE = 'header-value-c0ffee';
const COMMENT = 'the comment body 4e1d must not be traced';
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Herald with tracing pointed at the receiver; webhooks to local receivers. */
async function heraldEnv(dir: string, otlp: OtlpReceiver, extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  return {
    DATABASE_URL: await testDatabaseUrl(dir),
    HERALD_ADMIN_TOKEN: TOKEN,
    // each process runs in a folder of its own: on PostgreSQL the key would otherwise be a new one each time
    HERALD_SECRET_KEY: Buffer.from('tracing-test-secret-key-01234567').toString('base64'),
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    WEBHOOK_EXTRA_HOSTS: '127.0.0.1',
    WEBHOOK_ALLOW_HTTP: 'true',
    LOG_LEVEL: 'info',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    OTEL_SERVICE_NAME: 'herald-under-test',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
    // exported soon after they end: the test waits for them
    OTEL_BSP_SCHEDULE_DELAY: '50',
    ...extra,
  };
}

/** A project with two webhooks, each with its secrets: a Custom one (signed, with a header of the user's) and a Slack one. */
async function webhooks(base: string, custom: Receiver, slack: Receiver): Promise<{ projectId: number; issueId: number }> {
  const project = await call(base, 'POST', '/api/projects', { name: 'Traced' });
  await call(base, 'POST', `/api/projects/${project.id}/webhooks`, {
    type: 'CUSTOM',
    name: 'custom',
    url: custom.url(`/hook/${SECRET_PATH}?key=${SECRET_QUERY}`),
    activityTypes: ['bb.issue.comment.create'],
    signingSecret: SIGNING_SECRET,
    headers: { 'X-Api-Key': HEADER_VALUE },
  });
  await call(base, 'POST', `/api/projects/${project.id}/webhooks`, {
    type: 'SLACK',
    name: 'slack',
    url: slack.url(`/services/T0001/B0001/${SLACK_SECRET}`),
    activityTypes: ['bb.issue.comment.create'],
  });
  const issue = await call(base, 'POST', `/api/projects/${project.id}/issues`, { name: 'Trace me', type: 'bb.issue.general' });
  return { projectId: project.id, issueId: issue.id };
}

async function comment(base: string, issueId: number, traceparent: string, tracestate: string): Promise<Response> {
  const res = await fetch(`${base}/api/issues/${issueId}/comments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', traceparent, tracestate },
    body: JSON.stringify({ content: COMMENT }),
  });
  expect(res.status).toBe(201);
  return res;
}

const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);
const only = (spans: ReceivedSpan[], name: string) => {
  const found = named(spans, name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0];
};

/** The attempt spans of the trace that ended with their outcome recorded as delivered, one per webhook. */
const deliveredAttempts = (spans: ReceivedSpan[]) => named(spans, 'send webhook').filter((s) => s.attributes['herald.delivery.status'] === 'DELIVERED');

/** What every receiver got, and what every span holds, never shows a secret or the message. */
function expectNothingLeaked(otlp: OtlpReceiver): void {
  const exported = otlp.bodies.join('\n');
  expect(exported.length).toBeGreaterThan(0);
  for (const secret of [SECRET_PATH, SECRET_QUERY, SLACK_SECRET, HEADER_VALUE, SIGNING_SECRET, SIGNING_SECRET.slice('whsec_'.length), COMMENT, 'must not be traced', TOKEN]) {
    expect({ secret, leaked: exported.includes(secret) }).toEqual({ secret, leaked: false });
  }
}

describe('OpenTelemetry traces from the request to every delivery', () => {
  let otlp: OtlpReceiver;
  let custom: Receiver;
  let slack: Receiver;

  beforeEach(async () => {
    otlp = await new OtlpReceiver().start();
    custom = await new Receiver().start();
    slack = await new Receiver().start();
    slack.answer({ status: 200, body: 'ok' });
  });
  afterEach(async () => {
    await Promise.all([otlp.stop(), custom.stop(), slack.stop()]);
  });

  it('holds the request, the append, the scheduling and every attempt in the caller’s trace, and hands it to the receivers', async () => {
    const herald = new ChildHerald(await heraldEnv(tempDir('herald-trace-'), otlp));
    try {
      await herald.start();
      const { issueId } = await webhooks(herald.base, custom, slack);
      const traceId = hex(16);
      const callerSpan = hex(8);
      await comment(herald.base, issueId, `00-${traceId}-${callerSpan}-01`, 'congo=t61rcWkgMzE');

      await until(() => deliveredAttempts(otlp.trace(traceId)).length === 2, 'both webhooks’ attempts in the trace');
      await until(() => custom.received.length === 1 && slack.received.length === 1, 'one request at each receiver');
      const spans = otlp.trace(traceId);
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      const parentOf = (span: ReceivedSpan) => byId.get(span.parentSpanId);

      // the request, under the caller's span
      const request = only(spans, 'POST /api/issues/:issueId/comments');
      expect(request).toMatchObject({ kind: SERVER, parentSpanId: callerSpan });
      expect(request.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/api/issues/:issueId/comments', 'http.response.status_code': 201 });
      expect(request.resource).toMatchObject({ 'service.name': 'herald-under-test', 'deployment.environment': 'test' });
      // its command's transaction, one span named after its append
      const append = only(spans, 'append issue');
      expect(append.kind).toBe(CLIENT);
      expect(append.attributes).toMatchObject({
        'db.system.name': testEngine() === 'postgres' ? 'postgresql' : 'sqlite',
        'herald.stream.id': `issue-${issueId}`,
        'herald.events.count': 1,
        'herald.event.types': ['issue.comment-created'],
      });
      expect(parentOf(append)).toBe(request);
      expect(named(spans, 'transaction').filter((s) => s.parentSpanId === request.spanId)).toEqual([]);
      // the event keeps the append's context: the scheduling continues from it
      const events = await call(herald.base, 'GET', `/api/events?limit=100`);
      const commented = events.find((e: { type: string }) => e.type === 'issue.comment-created');
      expect(commented.metadata).toMatchObject({ traceparent: `00-${traceId}-${append.spanId}-01`, tracestate: 'congo=t61rcWkgMzE' });
      const schedule = only(spans, 'schedule webhooks');
      expect(schedule.parentSpanId).toBe(append.spanId);
      expect(schedule.attributes).toMatchObject({ 'herald.event.type': 'issue.comment-created', 'herald.activity.type': 'bb.issue.comment.create', 'herald.deliveries.created': 2 });
      // one delivery per webhook, each attempted under its delivery's span
      const deliveries = named(spans, 'create webhook');
      expect(deliveries.map((d) => d.attributes['herald.webhook.type']).sort()).toEqual(['CUSTOM', 'SLACK']);
      for (const delivery of deliveries) {
        expect(delivery).toMatchObject({ kind: PRODUCER, parentSpanId: schedule.spanId });
        const [attempt] = named(spans, 'send webhook').filter((s) => s.parentSpanId === delivery.spanId);
        expect(attempt.kind).toBe(CLIENT);
        expect(attempt.attributes).toMatchObject({
          'messaging.message.id': delivery.attributes['messaging.message.id'],
          'herald.webhook.type': delivery.attributes['herald.webhook.type'],
          'herald.delivery.attempt': 1,
          'http.request.method': 'POST',
          'http.response.status_code': 200,
          'herald.delivery.verdict': 'delivered',
          'herald.delivery.status': 'DELIVERED',
          'server.address': '127.0.0.1',
        });
        // the receiver's traceparent is this attempt's span, in this trace
        const receiver = delivery.attributes['herald.webhook.type'] === 'CUSTOM' ? custom : slack;
        expect(receiver.received[0].headers).toMatchObject({ traceparent: `00-${traceId}-${attempt.spanId}-01`, tracestate: 'congo=t61rcWkgMzE' });
      }
      // the masked URL only
      expect(named(spans, 'send webhook').map((s) => s.attributes['url.full']).sort()).toEqual([`http://127.0.0.1:${custom.port}/***`, `http://127.0.0.1:${slack.port}/services/***`].sort());
      // the signature is unaffected by the trace headers
      expect(() => new Webhook(SIGNING_SECRET).verify(custom.received[0].body, custom.received[0].headers as Record<string, string>)).not.toThrow();
      // log lines written inside a span name it
      await until(() => herald.logLines().some((l) => l.msg === 'request completed' && l.route === '/api/issues/:issueId/comments'), 'the request’s log line');
      const line = herald.logLines().find((l) => l.msg === 'request completed' && l.route === '/api/issues/:issueId/comments')!;
      expect(line).toMatchObject({ trace_id: traceId, span_id: request.spanId });
      expect(herald.logLines().filter((l) => l.msg === 'request completed' && l.route === '/api/projects/:projectId/webhooks').every((l) => typeof l.trace_id === 'string' && l.trace_id !== traceId)).toBe(true);
      expectNothingLeaked(otlp);
    } finally {
      await herald.shutdown();
    }
  }, 120_000);

  it('continues the trace across restarts: between the append and the scheduling, and between the scheduling and the attempt', async () => {
    const dir = tempDir('herald-trace-restart-');
    // http/json this time: both exporters are used
    const start = async (extra: NodeJS.ProcessEnv) => new ChildHerald(await heraldEnv(dir, otlp, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', WEBHOOK_TIMEOUT_MS: '60000', ...extra })).start();
    const traceId = hex(16);
    let herald = await start({ HERALD_BACKGROUND_WORKERS: 'false' });
    try {
      // 1. appended, nothing scheduled: stopped cleanly (what it traced is exported as it stops)
      const { issueId } = await webhooks(herald.base, custom, slack);
      await comment(herald.base, issueId, `00-${traceId}-${hex(8)}-01`, 'congo=t61rcWkgMzE');
      expect(await herald.stop()).toBe(0);
      const append = only(otlp.trace(traceId), 'append issue');
      expect(named(otlp.trace(traceId), 'schedule webhooks')).toEqual([]);

      // 2. another process schedules it, in the trace; the Custom receiver holds its request: killed mid-attempt
      custom.delayMs = Infinity;
      herald = await start({});
      await until(() => named(otlp.trace(traceId), 'create webhook').length === 2 && custom.received.length === 1, 'the deliveries scheduled, one attempt in flight');
      await herald.kill();
      const schedule = only(otlp.trace(traceId), 'schedule webhooks');
      expect(schedule.parentSpanId).toBe(append.spanId);
      const customDelivery = named(otlp.trace(traceId), 'create webhook').find((s) => s.attributes['herald.webhook.type'] === 'CUSTOM')!;

      // 3. a third process attempts it again: the attempt is a child of the delivery's span, kept with the delivery
      custom.delayMs = 0;
      herald = await start({});
      await until(() => deliveredAttempts(otlp.trace(traceId)).some((s) => s.parentSpanId === customDelivery.spanId), 'the Custom delivery attempted after the restart, in the trace', 45_000);
      const attempt = deliveredAttempts(otlp.trace(traceId)).find((s) => s.parentSpanId === customDelivery.spanId)!;
      const last = custom.received[custom.received.length - 1];
      expect(last.headers).toMatchObject({ traceparent: `00-${traceId}-${attempt.spanId}-01`, tracestate: 'congo=t61rcWkgMzE' });
      // the first request, cut off by the kill, carried the same delivery id
      expect(new Set(custom.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
      expect(attempt.attributes).toMatchObject({ 'messaging.message.id': last.headers['webhook-id'], 'http.response.status_code': 200 });
      expectNothingLeaked(otlp);
    } finally {
      await herald.shutdown();
    }
  }, 150_000);
});
