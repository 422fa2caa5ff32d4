import type { EventMetadata } from './event.js';
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
 * and nothing of the batch is kept.
 */
export function importEvents(store: EventStore, events: ExportedEvent[]): Promise<number> {
  return store.transact(async (tx) => {
    for (const e of events) {
      await tx.append(e.streamId, e.version - 1, [{ type: e.type, schemaVersion: e.schemaVersion, data: e.data }], {
        metadata: e.metadata,
        occurredAt: e.occurredAt,
      });
    }
    return events.length;
  });
}
