import { context, SpanKind, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { RecordedEvent } from '../../event-store/event.js';
import { contextFrom, endFailed, traceContextOf, tracer, type TraceContext } from '../../shared/tracing.js';

/** The columns a delivery row keeps of its span (see the migration DeliveryTraceContext). */
export interface DeliveryTraceColumns {
  traceparent: string | null;
  tracestate: string | null;
}

const NONE: DeliveryTraceColumns = { traceparent: null, tracestate: null };

/**
 * The spans of one slice's scheduling. An event appended inside a trace (its metadata holds the
 * append's span context) gets a `schedule webhooks` span in that trace, whichever instance reads
 * it and however long after; each delivery made for it, a `create webhook` span (a messaging
 * producer's "create") under that, whose context the delivery row keeps: its attempts are that
 * span's children. All end when the slice's transaction has committed (or failed).
 */
export class SliceTrace {
  private readonly spans: Span[] = [];

  /** The event's scheduling, or null when it was appended outside any trace. */
  event(event: RecordedEvent): EventScheduling | null {
    const parent = contextFrom(event.metadata);
    if (!parent) return null;
    const span = tracer().startSpan(
      'schedule webhooks',
      { attributes: { 'herald.event.id': event.eventId, 'herald.event.position': event.position, 'herald.event.type': event.type, 'herald.stream.id': event.streamId } },
      parent,
    );
    this.spans.push(span);
    return new EventScheduling(span, this.spans);
  }

  /** The slice's deliveries committed (or there were none to write). */
  committed(): void {
    for (const span of this.spans.splice(0)) span.end();
  }

  failed(error: unknown): void {
    for (const span of this.spans.splice(0)) endFailed(span, error);
  }
}

export class EventScheduling {
  private created = 0;

  constructor(
    private readonly span: Span,
    private readonly spans: Span[],
  ) {}

  /** The activity the event maps to (none: no webhook hears of it). */
  mapped(activityType: string | null): void {
    if (activityType) this.span.setAttribute('herald.activity.type', activityType);
  }

  /** A delivery made for the event: its span, and what its row keeps of it. */
  delivery(id: string, webhook: { id: number; type: string }, status: string): DeliveryTraceColumns {
    this.span.setAttribute('herald.deliveries.created', ++this.created);
    const delivery = tracer().startSpan(
      'create webhook',
      { kind: SpanKind.PRODUCER, attributes: { ...webhookAttributes(webhook), 'messaging.message.id': id, 'herald.delivery.status': status } },
      trace.setSpan(context.active(), this.span),
    );
    this.spans.push(delivery);
    return columns(traceContextOf(trace.setSpan(context.active(), delivery)));
  }
}

/** The attributes every delivery of a webhook shares: made once per webhook configuration (the directory holds one object per configuration). */
const shared = new WeakMap<{ id: number; type: string }, Attributes>();
function webhookAttributes(webhook: { id: number; type: string }): Attributes {
  let attributes = shared.get(webhook);
  if (!attributes) {
    attributes = {
      'messaging.system': 'herald',
      'messaging.operation.type': 'create',
      'messaging.operation.name': 'create',
      'messaging.destination.name': `webhook ${webhook.id}`,
      'herald.webhook.id': webhook.id,
      'herald.webhook.type': webhook.type,
    };
    shared.set(webhook, attributes);
  }
  return attributes;
}

const columns = (stored: TraceContext | undefined): DeliveryTraceColumns => (stored ? { traceparent: stored.traceparent, tracestate: stored.tracestate ?? null } : NONE);
