import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { contextFrom, endFailed, traceContextOf, tracer } from '../../shared/tracing.js';
import type { WebhookConfig } from '../config/webhook.decider.js';
import type { HttpOutcome } from '../http/http-client.js';
import type { AttemptVerdict, Outcome } from './outcome.js';

/** Where an attempt stands in its delivery: the delivery's span context (its row's columns) and the attempt's number. */
export interface AttemptOrigin {
  traceparent?: string | null;
  tracestate?: string | null;
  number: number;
}

/**
 * The span of one attempt (`send webhook`, an HTTP client span): the whole of the tracing of an
 * attempt, so that it moves with the attempt wherever that runs. Its parent is the delivery's
 * `create webhook` span (kept on the delivery row), so every attempt of a delivery, even days of
 * retries later, is in the trace of the request that caused it; a delivery made outside any trace
 * (a replay, tracing turned on later) starts a trace of its own, and a test message is a child
 * of its request. Its context goes to the receiver as `traceparent` (and `tracestate`).
 *
 * The span ends when the attempt's outcome is recorded, with the delivery's new status and, for
 * a retry, the delay until the next attempt. It holds ids, the webhook's type, the masked URL,
 * the status code and the verdict's kind: never the URL's secret parts, a signing secret, a
 * header value or a body, and not the verdict's reason (it may quote the receiver's answer).
 */
export class AttemptTrace {
  private constructor(
    private readonly span: Span,
    private readonly active: Context,
  ) {}

  static start(hook: WebhookConfig, deliveryId: string, origin: AttemptOrigin): AttemptTrace {
    const parent = contextFrom(origin) ?? context.active();
    const span = tracer().startSpan(
      'send webhook',
      { kind: SpanKind.CLIENT, attributes: { ...webhookAttributes(hook), 'messaging.message.id': deliveryId, 'herald.delivery.attempt': origin.number } },
      parent,
    );
    return new AttemptTrace(span, trace.setSpan(parent, span));
  }

  /** Runs the attempt's work in its span (its log lines name it). */
  run<T>(work: () => T): T {
    return context.with(this.active, work);
  }

  /** The W3C headers a receiver may join the trace with (none when tracing is off). */
  headers(): Record<string, string> {
    const stored = traceContextOf(this.active);
    if (!stored) return {};
    return stored.tracestate ? { traceparent: stored.traceparent, tracestate: stored.tracestate } : { traceparent: stored.traceparent };
  }

  /** What came back, and the verdict on it. */
  sent(response: HttpOutcome | null, verdict: AttemptVerdict): void {
    if (response?.kind === 'response') this.span.setAttribute('http.response.status_code', response.status);
    if (response?.kind === 'error') this.span.setAttribute('error.type', response.error);
    this.span.setAttribute('herald.delivery.verdict', verdict.kind);
    if (verdict.kind !== 'delivered') this.span.setStatus({ code: SpanStatusCode.ERROR, message: response?.kind === 'error' ? response.error : verdict.kind });
  }

  /** The attempt's outcome is recorded: the span ends with the delivery's new status. */
  recorded(outcome: Outcome, at: Date): void {
    this.span.setAttribute('herald.delivery.status', outcome.status);
    if (outcome.nextAttemptAt) this.span.setAttribute('herald.delivery.retry_delay_ms', Math.max(0, outcome.nextAttemptAt.getTime() - at.getTime()));
    this.span.end();
  }

  /** Its outcome could not be recorded (it will be attempted again). */
  failed(error: unknown): void {
    endFailed(this.span, error);
  }
}

/** The attributes every attempt of a webhook shares: made once per webhook configuration (the directory holds one object per configuration). */
const shared = new WeakMap<WebhookConfig, Attributes>();
function webhookAttributes(hook: WebhookConfig): Attributes {
  let attributes = shared.get(hook);
  if (!attributes) {
    attributes = {
      'messaging.system': 'herald',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': `webhook ${hook.id}`,
      'herald.webhook.id': hook.id,
      'herald.webhook.type': hook.type,
      'http.request.method': 'POST',
      'url.full': hook.urlMasked,
      ...serverOf(hook.urlMasked),
    };
    shared.set(hook, attributes);
  }
  return attributes;
}

/** server.address and server.port of the (masked) URL: the host is not a secret part. */
function serverOf(masked: string): Record<string, string | number> {
  try {
    const url = new URL(masked);
    return { 'server.address': url.hostname, 'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80), 'url.scheme': url.protocol.replace(/:$/, '') };
  } catch {
    return {};
  }
}
