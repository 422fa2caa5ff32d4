import { context, createTraceState, isSpanContextValid, ROOT_CONTEXT, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { HERALD_VERSION } from '../version.js';

/**
 * Tracing as the code sees it: the OpenTelemetry API only. Without the SDK (tracing not
 * configured, see src/tracing.ts) every call here is a no-op on the API's own no-op objects.
 *
 * What may go into a span: ids, types, counts, statuses, durations, a masked URL. Never a
 * URL's secret parts, a signing secret, a header value a user set, or a message body.
 */

/** Herald's tracer, looked up on each use: the provider is registered (and, in tests, replaced) at run time. */
export const tracer = (): Tracer => trace.getTracer('herald', HERALD_VERSION);

/** A span context in W3C Trace Context form: stored with events and deliveries, sent to receivers. */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

/** The span context active in `ctx` as W3C headers, or undefined outside any trace. */
export function traceContextOf(ctx: Context = context.active()): TraceContext | undefined {
  const span = trace.getSpanContext(ctx);
  if (!span || !isSpanContextValid(span)) return undefined;
  const traceparent = `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const tracestate = span.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** A context whose parent is a stored span context (a remote one: it may have been written by another process); undefined if there is none or it is malformed. */
export function contextFrom(stored: { traceparent?: string | null; tracestate?: string | null } | undefined): Context | undefined {
  const match = stored?.traceparent ? TRACEPARENT.exec(stored.traceparent) : null;
  if (!match) return undefined;
  // the pattern checked the ids' form: only the all-zero (invalid) ids remain to refuse
  if (match[1] === INVALID_TRACE_ID || match[2] === INVALID_SPAN_ID) return undefined;
  const spanContext = { traceId: match[1], spanId: match[2], traceFlags: parseInt(match[3], 16), isRemote: true, ...(stored?.tracestate ? { traceState: createTraceState(stored.tracestate) } : {}) };
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}

/** What is wrong with a stored trace context (an imported event's), or undefined when it is well-formed or absent. */
export function traceContextProblem(value: { traceparent?: unknown; tracestate?: unknown }): string | undefined {
  if (value.traceparent !== undefined && (typeof value.traceparent !== 'string' || !contextFrom({ traceparent: value.traceparent }))) {
    return 'metadata.traceparent must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)';
  }
  if (value.tracestate !== undefined && (typeof value.tracestate !== 'string' || value.tracestate.length > 512 || value.traceparent === undefined)) {
    return 'metadata.tracestate must be a W3C tracestate of at most 512 characters, beside a traceparent';
  }
  return undefined;
}

/** Whether work in `ctx` belongs to a trace: background work outside any trace makes no spans of its own. */
export const inTrace = (ctx: Context = context.active()): boolean => {
  const span = trace.getSpanContext(ctx);
  return span !== undefined && isSpanContextValid(span);
};

/** Ends a span as failed, with the error's kind and message (messages name no secret: see http-response.ts's scrub). */
export function endFailed(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
  span.end();
}

/** The fields every log line written inside a span carries (pino's mixin): none outside a trace. */
export function traceFields(): Record<string, string> {
  const span = trace.getSpanContext(context.active());
  if (!span || !isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId, trace_flags: (span.traceFlags & 0xff).toString(16).padStart(2, '0') };
}
