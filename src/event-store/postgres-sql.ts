import pg from 'pg';
import { conflict } from '../shared/errors.js';
import { WrongExpectedVersionError, type RecordedEvent } from './event.js';
import { toRecorded, type EventRow } from './event-store.js';
import type { UpcasterRegistry } from './upcasters.js';

// The SQL side of the PostgreSQL store: placeholders, reads of the log, and what the server's errors mean.

/** `?` placeholders (the SQL both engines share) to PostgreSQL's `$n`, outside string literals. */
const translated = new Map<string, string>();
export function toPostgresSql(sql: string): string {
  let result = translated.get(sql);
  if (result === undefined) {
    let n = 0;
    let quoted = false;
    result = '';
    for (const ch of sql) {
      if (ch === "'") quoted = !quoted;
      result += ch === '?' && !quoted ? `$${++n}` : ch;
    }
    translated.set(sql, result);
  }
  return result;
}

/** What a statement is sent through: the pool, or a transaction's connection. */
export interface Queryable {
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export const EVENT_COLUMNS = `position, event_id, stream_id, version, type, schema_version, data, metadata, occurred_at, transaction_id::text AS transaction_id`;

export async function readStreamOn(db: Queryable, streamId: string, afterVersion: number, upcasters: UpcasterRegistry, limit?: number): Promise<RecordedEvent[]> {
  // LIMIT NULL: no limit
  const { rows } = await db.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version LIMIT $3`, [streamId, afterVersion, limit ?? null]);
  return rows.map((row) => toRecorded(row, upcasters));
}

export async function readAllOn(db: Queryable, afterPosition: number, limit: number, upcasters: UpcasterRegistry): Promise<RecordedEvent[]> {
  const { rows } = await db.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`, [afterPosition, limit]);
  return rows.map((row) => toRecorded(row, upcasters));
}

/** The server answered the statement with an error of its own (not a connection lost or ended on its way). */
export function answeredByServer(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return error instanceof pg.DatabaseError && typeof code === 'string' && !code.startsWith('08') && !code.startsWith('57');
}

/**
 * A concurrent append to the same stream shows up as a unique violation on (stream,
 * version): the same as a stale expected version, so the aggregate store retries it.
 * Another unique violation is a value a concurrent command took first (an email, a key).
 */
export function translateError(error: unknown): unknown {
  const e = error as { code?: string; constraint?: string; detail?: string; table?: string };
  if (e?.code === '23505') {
    if (e.table === 'events' && e.constraint !== undefined && /version/.test(e.constraint)) {
      const match = /\(stream_id, version\)=\(([^,]+), (\d+)\)/.exec(e.detail ?? '');
      return new WrongExpectedVersionError(match?.[1] ?? '?', Number(match?.[2] ?? 0) - 1, Number(match?.[2] ?? 0));
    }
    return conflict(`a concurrent change took the same value first (${e.constraint ?? 'unique key'})`);
  }
  return error;
}
