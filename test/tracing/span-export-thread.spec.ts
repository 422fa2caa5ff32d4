import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { loadTracingConfig } from '../../src/config/tracing-config.js';
import { contextFrom, tracer } from '../../src/shared/tracing.js';
import { startTracing } from '../../src/tracing.js';
import { OtlpReceiver } from '../support/otlp-receiver.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * The spans the loop finishes cross to the export thread as records and are exported there by
 * the SDK's own processor and exporter: what a collector receives is the span as it was made.
 */
describe('the export thread', () => {
  let otlp: OtlpReceiver;
  beforeEach(async () => {
    otlp = await new OtlpReceiver().start();
  });
  afterEach(() => otlp.stop());

  it.each(['http/protobuf', 'http/json'])('exports every part of a span over %s, and what it holds when stopped', async (protocol) => {
    const config = loadTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: 'thread-test', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test' })!;
    const tracing = await startTracing(config);
    const [traceId, remoteParent] = [hex(16), hex(8)];
    const parent = contextFrom({ traceparent: `00-${traceId}-${remoteParent}-01`, tracestate: 'congo=t61rcWkgMzE' })!;
    const span = tracer().startSpan('create webhook', { kind: SpanKind.PRODUCER, attributes: { 'herald.webhook.id': 7, 'messaging.system': 'herald', 'herald.event.types': ['a', 'b'], 'herald.flag': true } }, parent);
    span.addEvent('retried', { 'herald.delivery.attempt': 2 });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
    span.end();
    const child = tracer().startSpan('send webhook', { kind: SpanKind.CLIENT }, trace.setSpan(parent, span));
    child.end();
    // the default delay is 5 s: stopping exports what waits at once
    await tracing.shutdown();

    const [created, sent] = ['create webhook', 'send webhook'].map((name) => otlp.trace(traceId).find((s) => s.name === name));
    expect(created).toMatchObject({
      spanId: span.spanContext().spanId,
      parentSpanId: remoteParent,
      traceState: 'congo=t61rcWkgMzE',
      kind: 4,
      attributes: { 'herald.webhook.id': 7, 'messaging.system': 'herald', 'herald.event.types': ['a', 'b'], 'herald.flag': true },
      events: [{ name: 'retried', attributes: { 'herald.delivery.attempt': 2 } }],
      status: { code: SpanStatusCode.ERROR, message: 'timeout' },
      resource: { 'service.name': 'thread-test', 'deployment.environment': 'test' },
    });
    expect(sent).toMatchObject({ spanId: child.spanContext().spanId, parentSpanId: span.spanContext().spanId, kind: 3 });
    expect(otlp.spans).toHaveLength(2);
  });
});
