import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import type { Clock } from '../shared/clock.js';
import { uuidv7 } from './event-id.js';
import { WrongExpectedVersionError, type RecordedEvent } from './event.js';
import { EventStore, LOG_START, OFTEN, toRecorded, type Often, type EventRow, type LogCursor, type Signal, type WriteOptions, type WriteTx } from './event-store.js';
import { answeredByServer, stalePlan, createHead, EVENT_COLUMNS, named, readAllOn, readStreamOn, STREAM_VERSION, toPostgresSql, translateError, type Named, type Queryable } from './postgres-sql.js';
import { tracedTransaction } from './store-tracing.js';
import { StreamStarts } from './stream-starts.js';
import { UpcasterRegistry } from './upcasters.js';

/**
 * Commits that appended are announced to every instance on this channel (a signal only:
 * readers poll too), with an empty payload; other signals (new deliveries) carry their name.
 */
export const LOG_CHANNEL = 'herald_log';
const SIGNALS: readonly Signal[] = ['deliveries'];

// ids, positions, counts and epoch milliseconds are BIGINT: all well below 2^53, read them as numbers
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * The event log on PostgreSQL: several Herald instances on one database.
 *
 * Each write transaction has a connection of its own (no group commit needed: the
 * server does it). Appends to one stream are serialized by its row in stream_heads (the
 * log is partitioned: no unique (stream, version) key spans it): an append moves it from
 * the expected version, or finds it moved and fails with WrongExpectedVersionError, which
 * the aggregate store retries. Ids come from rows of id_sequences, locked until COMMIT, so they are
 * unique and without gaps even across instances.
 *
 * Ordering. Positions come from a sequence, taken when a row is inserted; a
 * transaction that took position 10 may commit after one that took 11. A reader that
 * read "after 11" would then never see 10. So every event also stores the id of the
 * transaction that wrote it (pg_current_xact_id()), and the log is read in
 * (transaction id, position) order, only below the oldest transaction still running
 * (pg_snapshot_xmin of the current snapshot): nothing can commit later below that line,
 * so a cursor (transaction id, position) never skips an event and never sees one twice.
 * The price is that an event becomes visible to subscriptions only once every older
 * transaction has ended (milliseconds here: transactions are short). This is the rule
 * proven in other event stores on PostgreSQL (Marten's, Eventuous's, emmett's).
 */
export class PostgresEventStore extends EventStore {
  readonly engine = 'postgres' as const;
  private readonly logger = new Logger('PostgresEventStore');
  private readonly inUnit = new AsyncLocalStorage<true>();
  private listener: pg.Client | null = null;
  private closed = false;
  private readonly advanced = new Set<() => void>();
  /** The pool, counting the statements sent through it. */
  private readonly db: Queryable;
  /** Where the streams read lately begin: their reads name it, and plan only the partitions from there. */
  private readonly starts = new StreamStarts();

  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
    readonly upcasters = new UpcasterRegistry(),
    /** Where to LISTEN for other instances' commits; none: this instance's own commits only. */
    private readonly listenUrl?: string,
    /** Statements marked OFTEN run as named prepared statements (HERALD_PG_PREPARED_STATEMENTS). */
    private readonly prepared = true,
  ) {
    super();
    this.db = this.counting(pool);
    if (listenUrl) void this.listen();
  }

  /** Called on every commit that appended: this instance's (after COMMIT) and, through NOTIFY, the others'. */
  override onLogAdvanced(listener: () => void): () => void {
    this.advanced.add(listener);
    const local = this.onCommit(() => listener());
    return () => {
      this.advanced.delete(listener);
      local();
    };
  }

  /**
   * Keeps one connection LISTENing, reconnecting each second after it fails (a server
   * restart, say). Logs once when it is lost and once when it is back, not each try.
   */
  private async listen(): Promise<void> {
    let lost = false;
    while (!this.closed) {
      // keepAlive: an idle connection whose server vanished (no FIN: a network partition) is noticed too
      const client = new pg.Client({ connectionString: this.listenUrl, application_name: 'herald-listen', keepAlive: true, connectionTimeoutMillis: 5000 });
      // close() ends it, even while it is still connecting
      this.listener = client;
      // from the start: an 'error' event nobody listens to would end the process
      const ended = new Promise<Error | undefined>((resolve) => {
        client.on('error', (error) => resolve(error));
        client.on('end', () => resolve(undefined));
      });
      client.on('notification', (message) => {
        if (message.channel !== LOG_CHANNEL) return;
        if (!message.payload) for (const listener of this.advanced) listener();
        else if (SIGNALS.includes(message.payload as Signal)) this.signalled([message.payload as Signal]);
      });
      try {
        await client.connect();
        if (this.closed) break;
        await client.query(`LISTEN ${LOG_CHANNEL}`);
        // (what other instances committed meanwhile, the readers' polling has found)
        if (lost) this.logger.log('the LISTEN connection is back: other instances’ commits wake this one again');
        lost = false;
        const error = await ended;
        if (!this.closed) this.logger.warn({ err: error }, 'the LISTEN connection was lost; polling each second until it is back');
        lost = true;
      } catch (error) {
        if (!this.closed && !lost) this.logger.warn({ err: error }, 'could not LISTEN for other instances; polling each second until it works');
        lost = true;
      } finally {
        this.listener = null;
        await client.end().catch(() => undefined);
      }
      if (!this.closed) await new Promise((resolve) => setTimeout(resolve, 1000).unref());
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => undefined);
  }

  transact<T>(fn: (tx: WriteTx) => Promise<T> | T, options: WriteOptions = {}): Promise<T> {
    return tracedTransaction(this.engine, () => this.transactUntraced(fn, options));
  }

  private async transactUntraced<T>(fn: (tx: WriteTx) => Promise<T> | T, options: WriteOptions): Promise<T> {
    if (this.inUnit.getStore()) throw new Error('nested write transaction: a write started inside another would not be part of it');
    const connection = await this.reading(() => this.pool.connect());
    const client = this.counting(connection);
    const appended = { upTo: 0, types: [] as string[], signals: new Set<Signal>() };
    let value: T;
    let broken: Error | undefined;
    let committing = false;
    // the pool stops listening to a client it hands out: a connection ended between two queries (a server
    // shutting down) would be an 'error' event nobody hears, which ends the process; the next query fails instead
    const lost = (error: Error) => (broken = error);
    connection.on('error', lost);
    try {
      // bookkeeping a crash may undo (it is redone) need not wait for the WAL flush (one round trip either way)
      await client.query(options.durable === false ? 'BEGIN; SET LOCAL synchronous_commit TO off' : 'BEGIN');
      value = await this.inUnit.run(true, () => fn(this.openTx(client, appended)));
      committing = true;
      // one round trip: the signals go out with the COMMIT (NOTIFY is delivered only if it commits)
      const notify = [...(appended.upTo > 0 ? [''] : []), ...[...appended.signals].map((name) => `, '${name}'`)].map((payload) => `NOTIFY ${LOG_CHANNEL}${payload}; `);
      await client.query(`${notify.join('')}COMMIT`);
    } catch (error) {
      // a connection that cannot even roll back is dropped, not given back to the pool
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      // and one whose named statement's plan no longer fits its table (a column added by another instance's migration):
      // it would fail the same way on each call, a fresh connection prepares it again (pool.query drops one on any error)
      if (stalePlan(error)) broken ??= error as Error;
      // a connection lost with the COMMIT on its way: the server may have committed before it went
      throw this.storageError(translateError(error), committing && !answeredByServer(error));
    } finally {
      connection.removeListener('error', lost);
      connection.release(broken);
    }
    this.storageCommitted();
    this.announce(appended.upTo, appended.types);
    this.signalled(appended.signals);
    return value;
  }

  readStream(streamId: string, afterVersion = 0, limit?: number): Promise<RecordedEvent[]> {
    return this.reading(() => readStreamOn(this.db, streamId, afterVersion, this.upcasters, limit, this.starts));
  }

  protected override streamStarts(streamIds: readonly string[]): Promise<readonly number[]> {
    return this.reading(() => this.starts.ofMany(this.db, streamIds));
  }

  readAll(afterPosition: number, limit: number): Promise<RecordedEvent[]> {
    return this.reading(() => readAllOn(this.db, afterPosition, limit, this.upcasters));
  }

  async readLog(after: LogCursor, limit: number): Promise<{ events: RecordedEvent[]; cursor: LogCursor }> {
    const { rows } = await this.reading(() =>
      this.db.query<EventRow>(
      `SELECT * FROM events
       WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY transaction_id, position LIMIT $3`,
        [after.transactionId, after.position, limit],
      ),
    );
    const events = rows.map((row) => toRecorded(row, this.upcasters));
    const last = events[events.length - 1];
    return { events, cursor: last ? { transactionId: last.transactionId!, position: last.position } : after };
  }

  async head(): Promise<number> {
    return (await this.reading(() => this.db.query<{ p: number }>(`SELECT COALESCE(MAX(position), 0) AS p FROM events`))).rows[0].p;
  }

  /** The last event below the oldest running transaction: what readLog has to offer ends there for now. */
  async headCursor(): Promise<LogCursor> {
    const { rows } = await this.reading(() =>
      this.db.query<{ transaction_id: string; position: number }>(
        `SELECT transaction_id::text AS transaction_id, position FROM events WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY transaction_id DESC, position DESC LIMIT 1`,
      ),
    );
    return rows[0] ? { transactionId: rows[0].transaction_id, position: rows[0].position } : LOG_START;
  }

  async countAfter(after: LogCursor): Promise<number> {
    const { rows } = await this.reading(() =>
      this.db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM events WHERE (transaction_id, position) > ($1::xid8, $2::bigint)`, [after.transactionId, after.position]),
    );
    return rows[0].n;
  }

  async query<T>(sql: string, params: unknown[] = [], often?: Often): Promise<T[]> {
    return (await this.reading(() => this.db.query(this.statement(sql, often), params))).rows as T[];
  }

  /** The text to send: named (prepared once per connection) when it runs often and prepared statements are on. */
  private statement(sql: string, often?: Often): string | Named {
    const text = toPostgresSql(sql);
    return often && this.prepared ? named(text) : text;
  }

  async queryOne<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.reading(() => this.db.query(toPostgresSql(sql), params))).rows[0] as T | undefined;
  }

  private counting(db: Queryable): Queryable {
    return {
      query: (text, values) => {
        this.roundTrips++;
        return db.query(text, values);
      },
    };
  }

  private openTx(client: Queryable, appended: { upTo: number; types: string[]; signals: Set<Signal> }): WriteTx {
    const now = this.clock.now();
    const occurredAt = now.toISOString();
    const version = async (streamId: string) => (await client.query<{ v: number }>(`SELECT ${STREAM_VERSION} AS v`, [streamId])).rows[0].v;
    return {
      now,
      signal: (name) => void appended.signals.add(name),
      readStream: (streamId, afterVersion = 0) => readStreamOn(client, streamId, afterVersion, this.upcasters, undefined, this.starts),
      lockStream: async (streamId) => {
        await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [streamId]);
      },
      // no snapshot line here: with the events table locked, no transaction that appends is still running
      readLogLocked: async (after, limit) => {
        const { rows } = await client.query<EventRow>(
          // events.transaction_id: the column (xid8), not the text it is selected as
          `SELECT ${EVENT_COLUMNS} FROM events WHERE (transaction_id, position) > ($1::xid8, $2::bigint) ORDER BY events.transaction_id, events.position LIMIT $3`,
          [after.transactionId, after.position, limit],
        );
        const events = rows.map((row) => toRecorded(row, this.upcasters));
        const last = events[events.length - 1];
        return { events, cursor: last ? { transactionId: last.transactionId!, position: last.position } : after };
      },
      streamVersion: version,
      append: async (streamId, expectedVersion, events, { metadata, occurredAt: importedAt }) => {
        if (events.length === 0) return [];
        const at = importedAt ?? occurredAt;
        const metadataJson = JSON.stringify(metadata);
        const values: unknown[] = [streamId, expectedVersion];
        const eventIds = events.map(() => uuidv7());
        const rows = events.map((event, i) => {
          const base = values.length;
          values.push(eventIds[i], expectedVersion + i + 1, event.type, event.schemaVersion, JSON.stringify(event.data), metadataJson, at);
          return `($${base + 1}::text, $1::text, $${base + 2}::integer, $${base + 3}::text, $${base + 4}::integer, $${base + 5}::jsonb, $${base + 6}::jsonb, $${base + 7}::text)`;
        });
        values.push(expectedVersion + events.length);
        const to = `$${values.length}::integer`;
        // the stream's head moved (or, for a new stream, created) and the insert in one round trip: nothing is inserted
        // unless it moved (a concurrent append waits for the head's row lock, then finds it moved). The statement names
        // no partition of the log where it can help it: planning it then costs the same however many there are.
        const insert = (head: string) =>
          client.query<{ position: number; transaction_id: string; event_id: string }>(
            `WITH head AS (${head})
             INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at)
             SELECT * FROM (VALUES ${rows.join(', ')}) AS appended WHERE EXISTS (SELECT 1 FROM head)
             RETURNING position, transaction_id::text AS transaction_id, event_id`,
            values,
          );
        let inserted = await insert(expectedVersion === 0 ? createHead(to) : `UPDATE stream_heads SET version = ${to} WHERE stream_id = $1 AND version = $2::integer RETURNING 1`);
        // a stream whose events were written around the store has no head: made from its events, if it is at the version
        if (inserted.rows.length === 0 && expectedVersion > 0 && !(await client.query(`SELECT 1 FROM stream_heads WHERE stream_id = $1`, [streamId])).rows.length) {
          inserted = await insert(createHead(to));
        }
        if (inserted.rows.length === 0) throw new WrongExpectedVersionError(streamId, expectedVersion, await version(streamId));
        // matched by event id: RETURNING does not promise the VALUES' order
        const byId = new Map(inserted.rows.map((row) => [row.event_id, row]));
        const recorded = events.map((event, i) => ({
          position: byId.get(eventIds[i])!.position,
          eventId: eventIds[i],
          streamId,
          version: expectedVersion + i + 1,
          type: event.type,
          schemaVersion: event.schemaVersion,
          data: event.data,
          metadata,
          occurredAt: at,
          transactionId: byId.get(eventIds[i])!.transaction_id,
        }));
        appended.upTo = Math.max(appended.upTo, ...recorded.map((e) => e.position));
        for (const event of recorded) appended.types.push(event.type);
        return recorded;
      },
      nextIds: async (sequence, count) => {
        if (count === 0) return [];
        // the sequence's row stays locked until COMMIT: concurrent creators queue here, and a rollback gives the ids back
        const { rows } = await client.query<{ value: number }>(
          `INSERT INTO id_sequences (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = id_sequences.value + excluded.value RETURNING value`,
          [sequence, count],
        );
        return Array.from({ length: count }, (_, i) => rows[0].value - count + 1 + i);
      },
      exec: async (writes) => {
        for (const write of writes) await client.query(this.statement(write.sql, write.often ? OFTEN : undefined), write.params);
      },
      get: async <T>(sql: string, params: unknown[] = []) => (await client.query(toPostgresSql(sql), params)).rows[0] as T | undefined,
      all: async <T>(sql: string, params: unknown[] = [], often?: Often) => (await client.query(this.statement(sql, often), params)).rows as T[],
    };
  }
}
