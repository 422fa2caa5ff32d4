import type { SqliteStatement } from '../database/sqlite-driver.js';
import { uuidv7 } from './event-id.js';
import { WrongExpectedVersionError, type RecordedEvent } from './event.js';
import type { Signal, WriteTx } from './event-store.js';

/** What a batch of units appended and raised: announced after its COMMIT (units rolled back to their SAVEPOINT are taken out). */
export interface SqliteBatchRecord {
  /** The last position appended. */
  appendedUpTo: number;
  appendedTypes: string[];
  raised: Signal[];
}

export const newBatchRecord = (): SqliteBatchRecord => ({ appendedUpTo: 0, appendedTypes: [], raised: [] });

/** What a write transaction uses of its store: the writer connection's statements, and the running batch's record. */
export interface SqliteTxHost {
  /** A statement prepared on the writer connection (a round trip counted). */
  statement(sql: string): SqliteStatement;
  readStream(streamId: string, afterVersion: number): RecordedEvent[];
  readAll(afterPosition: number, limit: number): RecordedEvent[];
  countRoundTrip(): void;
  batch: SqliteBatchRecord;
}

/** The SQL of one unit of a batch, on the writer connection (which holds the database's only write lock). */
export function sqliteWriteTx(now: Date, host: SqliteTxHost): WriteTx {
  const occurredAt = now.toISOString();
  const version = (streamId: string) => (host.statement(`SELECT MAX(version) AS v FROM events WHERE stream_id = ?`).get(streamId) as { v: number | null }).v ?? 0;
  return {
    now,
    signal: (name) => void host.batch.raised.push(name),
    readStream: async (streamId, afterVersion = 0) => host.readStream(streamId, afterVersion),
    // the write lock of the whole database is held already
    lockStream: async () => undefined,
    // the write transaction holds the database's only write lock: every event is committed, in position order
    readLogLocked: async (after, limit) => {
      const events = host.readAll(after.position, limit);
      return { events, cursor: events.length > 0 ? { transactionId: '0', position: events[events.length - 1].position } : after };
    },
    streamVersion: async (streamId) => version(streamId),
    append: async (streamId, expectedVersion, events, { metadata, occurredAt: importedAt }) => {
      const at = importedAt ?? occurredAt;
      const actual = version(streamId);
      if (actual !== expectedVersion) throw new WrongExpectedVersionError(streamId, expectedVersion, actual);
      const insert = host.statement(`INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
      const metadataJson = JSON.stringify(metadata);
      const recorded = events.map((event, i) => {
        const eventId = uuidv7();
        const eventVersion = expectedVersion + i + 1;
        if (i > 0) host.countRoundTrip();
        const info = insert.run(eventId, streamId, eventVersion, event.type, event.schemaVersion, JSON.stringify(event.data), metadataJson, at);
        return { position: Number(info.lastInsertRowid), eventId, streamId, version: eventVersion, type: event.type, schemaVersion: event.schemaVersion, data: event.data, metadata, occurredAt: at };
      });
      if (recorded.length > 0) host.batch.appendedUpTo = recorded[recorded.length - 1].position;
      for (const event of recorded) host.batch.appendedTypes.push(event.type);
      return recorded;
    },
    nextIds: async (sequence, count) => {
      if (count === 0) return [];
      const bump = host.statement(`INSERT INTO id_sequences (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = id_sequences.value + excluded.value RETURNING value`);
      const { value } = bump.get(sequence, count) as { value: number };
      return Array.from({ length: count }, (_, i) => value - count + 1 + i);
    },
    exec: async (writes) => {
      for (const write of writes) host.statement(write.sql).run(...write.params);
    },
    get: async <T>(sql: string, params: unknown[] = []) => host.statement(sql).get(...params) as T | undefined,
    all: async <T>(sql: string, params: unknown[] = []) => host.statement(sql).all(...params) as T[],
  };
}
