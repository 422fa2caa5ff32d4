import { AsyncLocalStorage } from 'node:async_hooks';
import { context, type Context } from '@opentelemetry/api';
import { Logger } from '@nestjs/common';
import { SqliteCheckpointer } from '../database/sqlite-checkpointer.js';
import { openSqlite, type SqliteDatabase, type SqliteStatement } from '../database/sqlite-driver.js';
import type { Clock } from '../shared/clock.js';
import { uuidv7 } from './event-id.js';
import { WrongExpectedVersionError, type RecordedEvent } from './event.js';
import { EventStore, toRecorded, type EventRow, type LogCursor, type Signal, type WriteOptions, type WriteTx } from './event-store.js';
import { tracedTransaction } from './store-tracing.js';
import { UpcasterRegistry } from './upcasters.js';

interface QueuedUnit {
  durable: boolean;
  /** The caller's tracing context: the unit runs in it, though the batch runs in the writer's. */
  context: Context;
  fn: (tx: WriteTx) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The event log on SQLite (better-sqlite3): the embedded engine, one process.
 *
 * Every write goes through one writer queue: a batch of the units queued in the same
 * turn of the event loop runs as one BEGIN IMMEDIATE ... COMMIT (one fsync), each
 * unit in its own SAVEPOINT, so a unit that throws is rolled back alone, and no
 * caller hears "ok" before the COMMIT. Only one batch runs at a time, so two
 * overlapping commands never share a transaction by accident (TypeORM's shared
 * QueryRunner would turn the second into a SAVEPOINT of the first and lose it when
 * the first rolls back). Reads outside a transaction go to a second, read-only
 * connection: in WAL mode it sees committed data only, never a batch in progress.
 */
export class SqliteEventStore extends EventStore {
  readonly engine = 'sqlite' as const;
  private static readonly MAX_BATCH = 256;
  private readonly reader: SqliteDatabase;
  private readonly writeStatements = new Map<string, SqliteStatement>();
  private readonly readStatements = new Map<string, SqliteStatement>();
  private readonly queue: QueuedUnit[] = [];
  private flushScheduled = false;
  private flushing = false;
  /** Set while a unit runs: a write started from inside one would wait for itself. */
  private readonly inUnit = new AsyncLocalStorage<true>();
  /** The level durable commits use (FULL unless configured otherwise), and the one in force. */
  private readonly durableLevel: string;
  private currentLevel: string;
  /** The last position appended by the running batch; announced after COMMIT. */
  private appendedUpTo = 0;
  /** The event types appended by the running batch (units rolled back to their SAVEPOINT are taken out). */
  private appendedTypes: string[] = [];
  /** The signals the running batch raised (likewise). */
  private raised: Signal[] = [];
  /** WAL checkpoints, on a thread of their own (null: no WAL). */
  private readonly checkpointer: SqliteCheckpointer | null;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
    readonly upcasters = new UpcasterRegistry(),
  ) {
    super();
    this.durableLevel = ['OFF', 'NORMAL', 'FULL', 'EXTRA'][db.pragma('synchronous', { simple: true }) as number] ?? 'FULL';
    this.currentLevel = this.durableLevel;
    this.reader = openSqlite(db.name, { readonly: true, fileMustExist: true, timeout: 5000 });
    const logger = new Logger('SqliteEventStore');
    this.checkpointer = SqliteCheckpointer.start(db, (message) => logger.warn(message));
  }

  async close(): Promise<void> {
    while (this.flushing || this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    await this.checkpointer?.stop();
    if (this.reader.open) this.reader.close();
  }

  transact<T>(fn: (tx: WriteTx) => Promise<T> | T, options: WriteOptions = {}): Promise<T> {
    if (this.inUnit.getStore()) return Promise.reject(new Error('nested write transaction: a write started inside another would wait for itself'));
    return tracedTransaction(
      this.engine,
      () =>
        new Promise<T>((resolve, reject) => {
          this.queue.push({ durable: options.durable !== false, context: context.active(), fn, resolve: resolve as (value: unknown) => void, reject });
          this.schedule();
        }),
    );
  }

  private schedule(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      // the WAL being copied to its end (off the loop), so that this write starts it over
      await this.checkpointer?.beforeWrite();
      const batch = this.queue.splice(0, SqliteEventStore.MAX_BATCH);
      await this.runBatch(batch);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async runBatch(batch: QueuedUnit[]): Promise<void> {
    this.appendedUpTo = 0;
    this.appendedTypes = [];
    this.raised = [];
    const outcomes: Outcome[] = [];
    try {
      this.setDurable(batch.some((unit) => unit.durable));
      // inside the try: a BEGIN that fails (the database busy past its timeout) fails the batch's callers too
      this.roundTrips += 2; // BEGIN and COMMIT
      this.db.exec('BEGIN IMMEDIATE');
      const tx = this.openTx();
      if (batch.length === 1) {
        // a lone unit needs no SAVEPOINT: if it throws, the whole transaction is its own
        outcomes.push({ ok: true, value: await this.inUnit.run(true, () => context.with(batch[0].context, () => batch[0].fn(tx))) });
      } else {
        for (const unit of batch) {
          const typesBefore = this.appendedTypes.length;
          const raisedBefore = this.raised.length;
          this.roundTrips += 2; // SAVEPOINT and RELEASE
          this.db.exec('SAVEPOINT unit');
          try {
            const value = await this.inUnit.run(true, () => context.with(unit.context, () => unit.fn(tx)));
            this.db.exec('RELEASE unit');
            outcomes.push({ ok: true, value });
          } catch (error) {
            // SQLite rolled the whole transaction back itself (a full disk, an I/O error): the batch fails with this error
            if (!this.db.inTransaction) throw error;
            this.db.exec('ROLLBACK TO unit');
            this.db.exec('RELEASE unit');
            this.appendedTypes.length = typesBefore;
            this.raised.length = raisedBefore;
            outcomes.push({ ok: false, error });
          }
        }
      }
      this.db.exec('COMMIT');
    } catch (error) {
      // the lone unit threw, or BEGIN or COMMIT failed: nothing of the batch is kept, every caller hears so
      // (SQLite may have rolled back already, on a full disk say; a ROLLBACK that fails too changes nothing of that)
      if (this.db.inTransaction) this.rollbackQuietly();
      const reported = this.storageError(error);
      for (const unit of batch) unit.reject(reported);
      return;
    }
    // a batch whose every unit failed committed nothing (a COMMIT with nothing to write succeeds even on a full disk)
    if (outcomes.some((outcome) => outcome.ok)) this.storageCommitted();
    const appended = this.appendedUpTo;
    batch.forEach((unit, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(this.storageError(outcome.error));
    });
    this.announce(appended, this.appendedTypes);
    this.signalled(new Set(this.raised));
  }

  private rollbackQuietly(): void {
    try {
      this.db.exec('ROLLBACK');
    } catch {
      // the transaction is gone either way: the next BEGIN starts afresh
    }
  }

  /** SQLite's synchronous level can only change between transactions: set it for the next COMMIT. */
  private setDurable(durable: boolean): void {
    const level = durable ? this.durableLevel : 'NORMAL';
    if (level !== this.currentLevel) {
      this.db.pragma(`synchronous = ${level}`);
      this.currentLevel = level;
    }
  }

  readStream(streamId: string, afterVersion = 0, limit?: number): Promise<RecordedEvent[]> {
    return this.reading(() => this.readStreamOn(this.reader, this.readStatements, streamId, afterVersion, limit));
  }

  readAll(afterPosition: number, limit: number): Promise<RecordedEvent[]> {
    return this.reading(() => this.readAllOn(this.reader, this.readStatements, afterPosition, limit));
  }

  /** One writer at a time: positions are taken in commit order, so the position alone is a safe cursor. */
  async readLog(after: LogCursor, limit: number): Promise<{ events: RecordedEvent[]; cursor: LogCursor }> {
    const events = await this.readAll(after.position, limit);
    return { events, cursor: events.length > 0 ? { transactionId: '0', position: events[events.length - 1].position } : after };
  }

  head(): Promise<number> {
    return this.reading(() => (this.prepared(this.reader, this.readStatements, `SELECT COALESCE(MAX(position), 0) AS p FROM events`).get() as { p: number }).p);
  }

  async headCursor(): Promise<LogCursor> {
    return { transactionId: '0', position: await this.head() };
  }

  async countAfter(after: LogCursor): Promise<number> {
    return Math.max(0, (await this.head()) - after.position);
  }

  query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.reading(() => this.prepared(this.reader, this.readStatements, sql).all(...params) as T[]);
  }

  queryOne<T>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return this.reading(() => this.prepared(this.reader, this.readStatements, sql).get(...params) as T | undefined);
  }

  private prepared(db: SqliteDatabase, cache: Map<string, SqliteStatement>, sql: string): SqliteStatement {
    this.roundTrips++;
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  }

  private readStreamOn(db: SqliteDatabase, cache: Map<string, SqliteStatement>, streamId: string, afterVersion: number, limit?: number): RecordedEvent[] {
    const rows = (
      limit === undefined
        ? this.prepared(db, cache, `SELECT * FROM events WHERE stream_id = ? AND version > ? ORDER BY version`).all(streamId, afterVersion)
        : this.prepared(db, cache, `SELECT * FROM events WHERE stream_id = ? AND version > ? ORDER BY version LIMIT ?`).all(streamId, afterVersion, limit)
    ) as EventRow[];
    return rows.map((row) => toRecorded(row, this.upcasters));
  }

  private readAllOn(db: SqliteDatabase, cache: Map<string, SqliteStatement>, afterPosition: number, limit: number): RecordedEvent[] {
    const rows = this.prepared(db, cache, `SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?`).all(afterPosition, limit) as EventRow[];
    return rows.map((row) => toRecorded(row, this.upcasters));
  }

  private openTx(): WriteTx {
    const { db, writeStatements: cache } = this;
    const now = this.clock.now();
    const occurredAt = now.toISOString();
    const version = (streamId: string) =>
      (this.prepared(db, cache, `SELECT MAX(version) AS v FROM events WHERE stream_id = ?`).get(streamId) as { v: number | null }).v ?? 0;
    return {
      now,
      signal: (name) => void this.raised.push(name),
      readStream: async (streamId, afterVersion = 0) => this.readStreamOn(db, cache, streamId, afterVersion),
      // the write lock of the whole database is held already
      lockStream: async () => undefined,
      // the write transaction holds the database's only write lock: every event is committed, in position order
      readLogLocked: async (after, limit) => {
        const events = this.readAllOn(db, cache, after.position, limit);
        return { events, cursor: events.length > 0 ? { transactionId: '0', position: events[events.length - 1].position } : after };
      },
      streamVersion: async (streamId) => version(streamId),
      append: async (streamId, expectedVersion, events, { metadata, occurredAt: importedAt }) => {
        const at = importedAt ?? occurredAt;
        const actual = version(streamId);
        if (actual !== expectedVersion) throw new WrongExpectedVersionError(streamId, expectedVersion, actual);
        const insert = this.prepared(
          db,
          cache,
          `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        const metadataJson = JSON.stringify(metadata);
        const recorded = events.map((event, i) => {
          const eventId = uuidv7();
          const eventVersion = expectedVersion + i + 1;
          if (i > 0) this.roundTrips++;
          const info = insert.run(eventId, streamId, eventVersion, event.type, event.schemaVersion, JSON.stringify(event.data), metadataJson, at);
          return { position: Number(info.lastInsertRowid), eventId, streamId, version: eventVersion, type: event.type, schemaVersion: event.schemaVersion, data: event.data, metadata, occurredAt: at };
        });
        if (recorded.length > 0) this.appendedUpTo = recorded[recorded.length - 1].position;
        for (const event of recorded) this.appendedTypes.push(event.type);
        return recorded;
      },
      nextIds: async (sequence, count) => {
        if (count === 0) return [];
        const bump = this.prepared(db, cache, `INSERT INTO id_sequences (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = id_sequences.value + excluded.value RETURNING value`);
        const { value } = bump.get(sequence, count) as { value: number };
        return Array.from({ length: count }, (_, i) => value - count + 1 + i);
      },
      exec: async (writes) => {
        for (const write of writes) this.prepared(db, cache, write.sql).run(...write.params);
      },
      get: async <T>(sql: string, params: unknown[] = []) => this.prepared(db, cache, sql).get(...params) as T | undefined,
      all: async <T>(sql: string, params: unknown[] = []) => this.prepared(db, cache, sql).all(...params) as T[],
    };
  }
}
