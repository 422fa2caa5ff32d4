import { yieldToLoop } from '../shared/time-slice.js';
import { WrongExpectedVersionError, type EventMetadata } from './event.js';
import { assertConforms, NonConformingEventError, type EventSchemas } from './event-schema.js';
import { traceContextProblem } from '../shared/tracing.js';
import type { EventStore } from './event-store.js';

/** An event as exported (the JSON of GET /api/events); its position is not kept. */
export interface ExportedEvent {
  streamId: string;
  version: number;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: EventMetadata;
  occurredAt: string;
}

/** Events judged, streams looked up, or events appended per slice: a few milliseconds each. */
const SLICE = 500;

/** Another writer appended to a stream of the import while it ran: the events before that one are in the log. */
export class ImportStopped extends Error {
  constructor(
    readonly written: number,
    readonly total: number,
    cause: WrongExpectedVersionError,
  ) {
    super(`stopped after ${written} of ${total} events: ${cause.message} (another writer appended to it during the import); the first ${written} are in the log`);
    this.name = 'ImportStopped';
  }
}

/**
 * Appends exported events in their order, each at exactly its exported stream version.
 * Nothing is written unless every event matches its schema (NonConformingEventError) and
 * every stream is at the version before its first exported event, its versions following
 * on without a gap (WrongExpectedVersionError): both judged first, in slices. Then the
 * events are appended in short transactions of SLICE events, yielding between them, so a
 * service on the same database keeps committing (SQLite's one writer is not held for the
 * whole import; on PostgreSQL no transaction holds back the log's readers or thousands of
 * stream locks). Should another writer append to one of these streams meanwhile, the import
 * stops there (ImportStopped), the events before it kept.
 */
export async function importConformingEvents(
  store: EventStore,
  events: ExportedEvent[],
  schemas: EventSchemas,
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  // an exported event of an older shape is judged as it reads now (upcast)
  for (let i = 0; i < events.length; i += SLICE) {
    const slice = events.slice(i, i + SLICE);
    assertConforms(slice, schemas, store.upcasters);
    // a trace context kept with an event is followed by the webhooks' scheduling: it must be one
    for (const e of slice) {
      const problem = traceContextProblem(e.metadata ?? {});
      if (problem) throw new NonConformingEventError(e.type, problem);
    }
    await yieldToLoop();
  }
  await assertStreamsTakeThem(store, events);
  let written = 0;
  for (let i = 0; i < events.length; i += SLICE) {
    const slice = events.slice(i, i + SLICE);
    try {
      await store.transact(async (tx) => {
        // the slice's streams locked before its first write (see WriteTx.lockStream): an import into a live database keeps the log's order
        for (const streamId of new Set(slice.map((e) => e.streamId))) await tx.lockStream(streamId);
        for (const e of slice) {
          // stored in its current shape: an export made by an older version holds no old shape here
          await tx.append(e.streamId, e.version - 1, [store.upcasters.upcast({ type: e.type, schemaVersion: e.schemaVersion, data: e.data })], {
            metadata: e.metadata,
            occurredAt: e.occurredAt,
          });
        }
      });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) throw new ImportStopped(written, events.length, error);
      throw error;
    }
    written += slice.length;
    onProgress?.(written, events.length);
    await yieldToLoop();
  }
  return written;
}

/** Every stream is at the version before its first exported event, and its exported versions follow on one by one. */
async function assertStreamsTakeThem(store: EventStore, events: ExportedEvent[]): Promise<void> {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const e of events) {
    const before = last.get(e.streamId);
    if (before === undefined) first.set(e.streamId, e.version);
    else if (e.version !== before + 1) throw new WrongExpectedVersionError(e.streamId, e.version - 1, before);
    last.set(e.streamId, e.version);
  }
  const streams = [...first.keys()];
  for (let i = 0; i < streams.length; i += SLICE) {
    const some = streams.slice(i, i + SLICE);
    const rows = await store.query<{ stream_id: string; v: number | string }>(
      `SELECT stream_id, MAX(version) AS v FROM events WHERE stream_id IN (${some.map(() => '?').join(', ')}) GROUP BY stream_id`,
      some,
    );
    const at = new Map(rows.map((r) => [r.stream_id, Number(r.v)]));
    for (const streamId of some) {
      const current = at.get(streamId) ?? 0;
      if (current !== first.get(streamId)! - 1) throw new WrongExpectedVersionError(streamId, first.get(streamId)! - 1, current);
    }
  }
}
