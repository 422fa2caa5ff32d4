import { context, SpanKind, trace } from '@opentelemetry/api';
import { endFailed, inTrace, traceContextOf, tracer, type TraceContext } from '../shared/tracing.js';
import type { RecordedEvent } from './event.js';
import type { Engine } from './event-store.js';

/**
 * The event store's spans: one per write transaction and one per append, made only inside a
 * trace (a request's): the background's bookkeeping (claims, records, leases, heartbeats) makes
 * none. Statements are not spans of their own: SQLite has no driver instrumentation, and one span
 * per transaction reads the same on both engines.
 */

/**
 * Runs a write transaction inside a span of its own, when the caller is in a trace. `run` starts
 * the transaction in the span's context (the SQLite engine keeps that context with the queued unit).
 */
export async function tracedTransaction<T>(engine: Engine, run: () => Promise<T>): Promise<T> {
  const parent = context.active();
  if (!inTrace(parent)) return run();
  const span = tracer().startSpan(
    'transaction',
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': engine === 'postgres' ? 'postgresql' : 'sqlite', 'db.operation.name': 'transaction' } },
    parent,
  );
  try {
    const value = await context.with(trace.setSpan(parent, span), run);
    span.end();
    return value;
  } catch (error) {
    endFailed(span, error);
    throw error;
  }
}

/**
 * Appends to a stream (and projects) inside an `append <kind>` span when in a trace; `append` is
 * given that span's context, for the events' metadata: whatever follows from the events (the
 * webhooks' scheduling, on any instance, after any restart) continues the trace from there.
 */
export async function tracedAppend<E extends RecordedEvent>(streamId: string, count: number, append: (trace: TraceContext | undefined) => Promise<E[]>): Promise<E[]> {
  const parent = context.active();
  if (count === 0 || !inTrace(parent)) return append(undefined);
  const kind = streamId.slice(0, streamId.lastIndexOf('-'));
  const span = tracer().startSpan(`append ${kind}`, { attributes: { 'herald.stream.id': streamId, 'herald.events.count': count } }, parent);
  const active = trace.setSpan(parent, span);
  try {
    const recorded = await context.with(active, () => append(traceContextOf(active)));
    span.setAttributes({
      'herald.event.types': [...new Set(recorded.map((e) => e.type))],
      'herald.event.positions': recorded.map((e) => e.position),
      'herald.stream.version': recorded[recorded.length - 1]?.version ?? 0,
    });
    span.end();
    return recorded;
  } catch (error) {
    endFailed(span, error);
    throw error;
  }
}
