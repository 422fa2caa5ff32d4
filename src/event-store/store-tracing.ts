import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { endFailed, inTrace, traceContextOf, tracer, type TraceContext } from '../shared/tracing.js';
import type { RecordedEvent } from './event.js';
import type { Engine } from './event-store.js';

/**
 * The event store's spans: one per write transaction, made only inside a trace (a request's):
 * the background's bookkeeping (claims, records, leases, heartbeats) makes none. Statements are
 * not spans of their own: SQLite has no driver instrumentation, and one span per transaction
 * reads the same on both engines.
 *
 * A transaction's first append is told by its own span: renamed `append <kind>`, with the
 * append's attributes (one span where two held the same information, at a quarter of a
 * command's tracing cost). A second append in the same transaction, or one outside a traced
 * transaction, gets an `append <kind>` span of its own.
 */

/** Transaction spans that have not yet told of an append. */
const unused = new WeakSet<Span>();
const DB_SYSTEM: Record<Engine, string> = { sqlite: 'sqlite', postgres: 'postgresql' };

/**
 * Runs a write transaction inside a span of its own, when the caller is in a trace. `run` starts
 * the transaction in the span's context (the SQLite engine keeps that context with the queued unit).
 */
export async function tracedTransaction<T>(engine: Engine, run: () => Promise<T>): Promise<T> {
  const parent = context.active();
  if (!inTrace(parent)) return run();
  const span = tracer().startSpan('transaction', { kind: SpanKind.CLIENT, attributes: { 'db.system.name': DB_SYSTEM[engine], 'db.operation.name': 'transaction' } }, parent);
  unused.add(span);
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
 * Appends to a stream (and projects) as the transaction's span, or inside an `append <kind>`
 * span, when in a trace; `append` is given that span's context, for the events' metadata:
 * whatever follows from the events (the webhooks' scheduling, on any instance, after any
 * restart) continues the trace from there.
 */
export async function tracedAppend<E extends RecordedEvent>(streamId: string, count: number, append: (trace: TraceContext | undefined) => Promise<E[]>): Promise<E[]> {
  const parent = context.active();
  if (count === 0 || !inTrace(parent)) return append(undefined);
  const name = `append ${streamId.slice(0, streamId.lastIndexOf('-'))}`;
  const transaction = trace.getSpan(parent);
  if (transaction && unused.delete(transaction)) {
    transaction.updateName(name);
    transaction.setAttribute('herald.stream.id', streamId);
    const recorded = await append(traceContextOf(parent));
    tell(transaction, recorded);
    return recorded;
  }
  const span = tracer().startSpan(name, { attributes: { 'herald.stream.id': streamId } }, parent);
  const active = trace.setSpan(parent, span);
  try {
    const recorded = await context.with(active, () => append(traceContextOf(active)));
    tell(span, recorded);
    span.end();
    return recorded;
  } catch (error) {
    endFailed(span, error);
    throw error;
  }
}

/** What was appended: the events' types and positions and the stream's new version. */
function tell(span: Span, recorded: RecordedEvent[]): void {
  span.setAttributes({
    'herald.events.count': recorded.length,
    'herald.event.types': [...new Set(recorded.map((e) => e.type))],
    'herald.event.positions': recorded.map((e) => e.position),
    'herald.stream.version': recorded[recorded.length - 1]?.version ?? 0,
  });
}
