import { AsyncLocalStorage } from 'node:async_hooks';
import { context, type Context } from '@opentelemetry/api';
import { Logger } from '@nestjs/common';
import { SqliteCheckpointer } from '../database/sqlite-checkpointer.js';
import { openSqlite, type SqliteDatabase, type SqliteStatement } from '../database/sqlite-driver.js';
import { SqliteWalSync, type SyncFile } from '../database/sqlite-wal-sync.js';
import type { Clock } from '../shared/clock.js';
import type { RecordedEvent } from './event.js';
import { EventStore, toRecorded, type EventRow, type LogCursor, type WriteOptions, type WriteTx } from './event-store.js';
import { newBatchRecord, sqliteWriteTx, type SqliteBatchRecord } from './sqlite-write-tx.js';
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
 *
 * With synchronous=FULL in WAL mode, COMMIT runs at NORMAL (no fsync on the loop) and the batch's
 * callers hear "ok" once SqliteWalSync has synced the WAL off the loop, while the loop serves
 * other requests and the next batches commit (their work overlapping the disk's), sharing the
 * next sync. Reads of the log, and the subscriptions' wake-up, wait for it too, so nothing acts
 * on an event a power cut could take back.
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
  /** What the running batch appended and raised; announced after COMMIT. */
  private batch: SqliteBatchRecord = newBatchRecord();
  /** WAL checkpoints, on a thread of their own (null: no WAL). */
  private readonly checkpointer: SqliteCheckpointer | null;
  /** The durable commits' fsync, off the loop (null: SQLite syncs in COMMIT, or nothing is synced). */
  readonly walSync: SqliteWalSync | null;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
    readonly upcasters = new UpcasterRegistry(),
    syncFile?: SyncFile,
  ) {
    super();
    this.durableLevel = ['OFF', 'NORMAL', 'FULL', 'EXTRA'][db.pragma('synchronous', { simple: true }) as number] ?? 'FULL';
    const wal = !db.memory && String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    this.walSync = wal && (this.durableLevel === 'FULL' || this.durableLevel === 'EXTRA') ? new SqliteWalSync(`${db.name}-wal`, syncFile) : null;
    if (this.walSync) db.pragma('synchronous = NORMAL');
    this.currentLevel = this.walSync ? 'NORMAL' : this.durableLevel;
    this.reader = openSqlite(db.name, { readonly: true, fileMustExist: true, timeout: 5000 });
    const logger = new Logger('SqliteEventStore');
    this.checkpointer = SqliteCheckpointer.start(db, (message) => logger.warn(message));
  }

  async close(): Promise<void> {
    while (this.flushing || this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    await this.walSync?.close();
    await this.checkpointer?.stop();
    if (this.reader.open) this.reader.close();
  }

  /** Writes that waited for the WAL to be copied to its end so that it starts over (see SqliteCheckpointer). */
  checkpointResets(): number {
    return this.checkpointer?.resets ?? 0;
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
    const record = (this.batch = newBatchRecord());
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
          const typesBefore = record.appendedTypes.length;
          const raisedBefore = record.raised.length;
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
            record.appendedTypes.length = typesBefore;
            record.raised.length = raisedBefore;
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
    const committed = outcomes.some((outcome) => outcome.ok);
    if (committed) this.storageCommitted();
    const answer = (syncFailure?: unknown) => {
      batch.forEach((unit, i) => {
        const outcome = outcomes[i];
        if (!outcome.ok || syncFailure) unit.reject(this.storageError(outcome.ok ? syncFailure : outcome.error));
        else unit.resolve(outcome.value);
      });
      if (syncFailure) return;
      this.announce(record.appendedUpTo, record.appendedTypes);
      this.signalled(new Set(record.raised));
    };
    // the answers, and whatever acts on the events, wait for the WAL's fsync; the next batch does not
    if (committed && this.walSync && batch.some((unit) => unit.durable)) this.walSync.committed().then(() => answer(), answer);
    else answer();
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
    const level = durable && !this.walSync ? this.durableLevel : 'NORMAL';
    if (level !== this.currentLevel) {
      this.db.pragma(`synchronous = ${level}`);
      this.currentLevel = level;
    }
  }

  /**
   * A read of the log starts once the durable commits before it are synced: what reads the log acts
   * on it (the webhooks' subscription sends what it reads). Read-model queries do not wait.
   */
  private async readingLog<T>(read: () => T): Promise<T> {
    const settled = this.walSync?.settled();
    if (settled) await settled;
    return this.reading(read);
  }

  readStream(streamId: string, afterVersion = 0, limit?: number): Promise<RecordedEvent[]> {
    return this.readingLog(() => this.readStreamOn(this.reader, this.readStatements, streamId, afterVersion, limit));
  }

  readAll(afterPosition: number, limit: number): Promise<RecordedEvent[]> {
    return this.readingLog(() => this.readAllOn(this.reader, this.readStatements, afterPosition, limit));
  }

  /** One writer at a time: positions are taken in commit order, so the position alone is a safe cursor. */
  async readLog(after: LogCursor, limit: number): Promise<{ events: RecordedEvent[]; cursor: LogCursor }> {
    const events = await this.readAll(after.position, limit);
    return { events, cursor: events.length > 0 ? { transactionId: '0', position: events[events.length - 1].position } : after };
  }

  head(): Promise<number> {
    return this.readingLog(() => (this.prepared(this.reader, this.readStatements, `SELECT COALESCE(MAX(position), 0) AS p FROM events`).get() as { p: number }).p);
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
    return sqliteWriteTx(this.clock.now(), {
      statement: (sql) => this.prepared(this.db, this.writeStatements, sql),
      readStream: (streamId, afterVersion) => this.readStreamOn(this.db, this.writeStatements, streamId, afterVersion),
      readAll: (afterPosition, limit) => this.readAllOn(this.db, this.writeStatements, afterPosition, limit),
      countRoundTrip: () => void this.roundTrips++,
      batch: this.batch,
    });
  }
}
