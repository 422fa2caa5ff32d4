import type { EventMetadata } from './event.js';
import { assertConforms, type EventSchemas } from './event-schema.js';
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

/**
 * Appends exported events in their order, each at exactly its exported stream
 * version: a stream that already holds that version is refused (WrongExpectedVersionError)
 * and nothing of the batch is kept. An event that does not match its schema is refused
 * (NonConformingEventError) before anything is written.
 */
export async function importConformingEvents(store: EventStore, events: ExportedEvent[], schemas: EventSchemas): Promise<number> {
  // an exported event of an older shape is judged as it reads now (upcast)
  assertConforms(events, schemas, store.upcasters);
  return store.transact(async (tx) => {
    // every stream locked before the first write (see WriteTx.lockStream): an import into a live database keeps the log's order
    for (const streamId of new Set(events.map((e) => e.streamId))) await tx.lockStream(streamId);
    for (const e of events) {
      // stored in its current shape: an export made by an older version holds no old shape here
      await tx.append(e.streamId, e.version - 1, [store.upcasters.upcast({ type: e.type, schemaVersion: e.schemaVersion, data: e.data })], {
        metadata: e.metadata,
        occurredAt: e.occurredAt,
      });
    }
    return events.length;
  });
}
