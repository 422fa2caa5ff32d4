import type { RecordedEvent } from './event.js';
import { eventProblem, type EventSchemas } from './event-schema.js';
import type { EventStore } from './event-store.js';

const PAGE = 5000;

/** The log holds an event its readers cannot read: Herald refuses to start on it rather than misread it. */
export class NonConformingLogError extends Error {
  constructor(
    readonly event: RecordedEvent,
    readonly problem: string,
  ) {
    super(
      `the event log holds an event that does not match its schema: position ${event.position} ` +
        `(stream ${event.streamId}, version ${event.version}, ${event.type} schema version ${event.schemaVersion}): ${problem}. ` +
        'Herald does not start on it: restore a backup, or export the log (herald events export), correct that event and import it into a new database',
    );
    this.name = 'NonConformingLogError';
  }
}

/**
 * Reads the whole log as its readers see it (upcast) and throws on the first event that does
 * not match its schema (see EVENT_SCHEMAS), naming it. Resolves with the number of events read.
 */
export async function assertLogConforms(store: EventStore, schemas: EventSchemas): Promise<number> {
  let count = 0;
  for (let page = await store.readAll(0, PAGE); page.length > 0; page = await store.readAll(page[page.length - 1].position, PAGE)) {
    for (const event of page) {
      const problem = eventProblem(event, schemas);
      if (problem) throw new NonConformingLogError(event, problem);
    }
    count += page.length;
  }
  return count;
}
