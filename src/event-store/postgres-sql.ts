import { createHash } from 'node:crypto';
import pg from 'pg';
import { conflict } from '../shared/errors.js';
import { WrongExpectedVersionError, type RecordedEvent } from './event.js';
import { toRecorded, type EventRow } from './event-store.js';
import type { StreamStarts } from './stream-starts.js';
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
  query<R extends pg.QueryResultRow = any>(text: string | Named, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** A named prepared statement: node-postgres parses it once per connection, and PostgreSQL keeps its plan there. */
export interface Named {
  name: string;
  text: string;
}

/**
 * A statement's text as a named statement: its name comes from its text, so two texts never share a name (a
 * connection refuses a name prepared with another text). PostgreSQL plans it with its values for five runs,
 * then keeps a generic plan if it costs no more (at once for a statement without parameters).
 */
const names = new Map<string, Named>();
export function named(text: string): Named {
  let statement = names.get(text);
  if (statement === undefined) {
    statement = { name: `herald_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`, text };
    names.set(text, statement);
  }
  return statement;
}

export const EVENT_COLUMNS = `position, event_id, stream_id, version, type, schema_version, data, metadata, occurred_at, transaction_id::text AS transaction_id`;

/**
 * A stream's events lie at or past its head's first_position: with it, PostgreSQL skips (prunes, at run time)
 * the log's partitions before the stream began, but plans every one of them. A stream without a head (rows
 * written around the store) reads them all.
 */
export const READ_STREAM = `SELECT ${EVENT_COLUMNS} FROM events
  WHERE stream_id = $1 AND version > $2 AND position >= COALESCE((SELECT first_position FROM stream_heads WHERE stream_id = $1), 0)
  ORDER BY version LIMIT $3`;

/** A stream's read from its known first position ($4): pruned when it is planned, so only the partitions from its start are planned. */
export const READ_STREAM_FROM = `SELECT ${EVENT_COLUMNS} FROM events
  WHERE stream_id = $1 AND version > $2 AND position >= $4
  ORDER BY version LIMIT $3`;

export async function readStreamOn(db: Queryable, streamId: string, afterVersion: number, upcasters: UpcasterRegistry, limit: number | undefined, starts: StreamStarts): Promise<RecordedEvent[]> {
  const first = await starts.of(db, streamId);
  // LIMIT NULL: no limit
  const { rows } = await db.query<EventRow>(first === undefined ? READ_STREAM : READ_STREAM_FROM, [streamId, afterVersion, limit ?? null, ...(first === undefined ? [] : [first])]);
  return rows.map((row) => toRecorded(row, upcasters));
}

export async function readAllOn(db: Queryable, afterPosition: number, limit: number, upcasters: UpcasterRegistry): Promise<RecordedEvent[]> {
  const { rows } = await db.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`, [afterPosition, limit]);
  return rows.map((row) => toRecorded(row, upcasters));
}

/** A stream's version ($1: its id): its head's, or for a stream without one (rows written around the store) its last event's. */
export const STREAM_VERSION = `COALESCE((SELECT version FROM stream_heads WHERE stream_id = $1), (SELECT MAX(version) FROM events WHERE stream_id = $1), 0)`;

/**
 * The statement creating the head of a stream that has none ($1: its id, $2: the expected version; `to`: the new
 * version's placeholder), when the stream is at the expected version: 0 for a new stream (its first position is at
 * most the log's head + 1: a bound, never past its first event), or for events written around the store their last
 * version (no first position known: its reads scan every partition). A head already there, or made by a concurrent
 * creator (ON CONFLICT waits for it), means no row, so no insert.
 */
export function createHead(to: string): string {
  return `INSERT INTO stream_heads (stream_id, version, first_position)
    SELECT $1, ${to}, CASE WHEN $2::integer = 0 THEN (SELECT COALESCE(MAX(position), 0) + 1 FROM events) END
    WHERE CASE WHEN $2::integer = 0 THEN NOT EXISTS (SELECT 1 FROM events WHERE stream_id = $1)
               ELSE (SELECT MAX(version) FROM events WHERE stream_id = $1) = $2::integer END
    ON CONFLICT (stream_id) DO NOTHING RETURNING 1`;
}

/** A named statement prepared before its table changed shape ("cached plan must not change result type"). */
export function stalePlan(error: unknown): boolean {
  return (error as { code?: unknown })?.code === '0A000' && /cached plan must not change result type/.test(String((error as Error).message));
}

/** The server answered the statement with an error of its own (not a connection lost or ended on its way). */
export function answeredByServer(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return error instanceof pg.DatabaseError && typeof code === 'string' && !code.startsWith('08') && !code.startsWith('57');
}

/**
 * A concurrent append to the same stream finds its head moved (the append throws WrongExpectedVersionError itself);
 * should it ever show up as a unique violation of stream_heads instead (two creations of one stream, which ON CONFLICT
 * absorbs), it means the same: a stale expected version, which the aggregate store retries.
 * Another unique violation is a value a concurrent command took first (an email, a key).
 */
export function translateError(error: unknown): unknown {
  const e = error as { code?: string; constraint?: string; detail?: string; table?: string };
  if (e?.code === '23505') {
    if (e.table === 'stream_heads') {
      const stream = /\(stream_id\)=\((.+)\)/.exec(e.detail ?? '')?.[1] ?? '?';
      return new WrongExpectedVersionError(stream, 0, 1);
    }
    return conflict(`a concurrent change took the same value first (${e.constraint ?? 'unique key'})`);
  }
  return error;
}
