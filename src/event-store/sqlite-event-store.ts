import { uuidv7 } from './event-id.js';
import type Database from 'better-sqlite3';
import type { Clock } from '../shared/clock.js';
import {
  WrongExpectedVersionError,
  type DomainEvent,
  type EventMetadata,
  type RecordedEvent,
  type SqlWrite,
} from './event.js';
import { UpcasterRegistry } from './upcasters.js';

interface EventRow {
  position: number;
  event_id: string;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  occurred_at: string;
}

export interface AppendOptions {
  metadata: EventMetadata;
  /** Only for imports of exported streams: keeps the original time. */
  occurredAt?: string;
}

/** The write side of one transaction. Every method is synchronous on purpose: see SqliteEventStore.transact. */
export interface WriteTx {
  readonly now: Date;
  readStream(streamId: string, afterVersion?: number): RecordedEvent[];
  streamVersion(streamId: string): number;
  append(streamId: string, expectedVersion: number, events: DomainEvent[], options: AppendOptions): RecordedEvent[];
  nextIds(sequence: string, count: number): number[];
  exec(writes: SqlWrite[]): void;
  get<T>(sql: string, params?: unknown[]): T | undefined;
}

/** Told after each COMMIT that appended: the last position, and the types appended (for metrics). */
type CommitListener = (lastPosition: number, types: readonly string[]) => void;

export interface WriteOptions {
  /**
   * false for operational bookkeeping (delivery queue, checkpoints) that a power cut
   * may roll back without harm (it is redone, at least once): committed without an
   * fsync. Domain events are always durable. Default true.
   */
  durable?: boolean;
}

interface QueuedUnit {
  durable: boolean;
  fn: (tx: WriteTx) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The event log on SQLite (better-sqlite3).
 *
 * Every write transaction is one synchronous critical section: BEGIN IMMEDIATE, the
 * reads, the decision, the appends and the inline projections, COMMIT, with no
 * `await` in between. Node cannot interleave another command inside it, so two
 * overlapping requests can never share a transaction (TypeORM's shared QueryRunner
 * would turn the second into a SAVEPOINT of the first and lose it on a rollback), and
 * BEGIN IMMEDIATE takes SQLite's write lock up front, so other processes wait
 * (busy timeout) instead of failing half-way.
 */
export class SqliteEventStore {
  private static readonly MAX_BATCH = 256;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly listeners = new Set<CommitListener>();
  private readonly insertEvent: Database.Statement;
  private readonly selectStream: Database.Statement;
  private readonly selectVersion: Database.Statement;
  private readonly selectAll: Database.Statement;
  private readonly selectHead: Database.Statement;
  private readonly bumpSequence: Database.Statement;
  private readonly runInTransaction: Database.Transaction<(fn: (tx: WriteTx) => unknown) => unknown>;
  private readonly runBatch: Database.Transaction<(units: QueuedUnit[]) => Outcome[]>;
  private readonly queue: QueuedUnit[] = [];
  private flushScheduled = false;
  private inTransaction = false;
  /** The level durable commits use (FULL unless configured otherwise), and the one in force. */
  private readonly durableLevel: string;
  private currentLevel: string;
  /** The last position appended by the running transaction; announced after COMMIT. */
  private appendedUpTo = 0;
  /** The event types appended by the running transaction (units rolled back to their SAVEPOINT are taken out). */
  private appendedTypes: string[] = [];

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    readonly upcasters = new UpcasterRegistry(),
  ) {
    this.durableLevel = ['OFF', 'NORMAL', 'FULL', 'EXTRA'][db.pragma('synchronous', { simple: true }) as number] ?? 'FULL';
    this.currentLevel = this.durableLevel;
    this.insertEvent = db.prepare(
      `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.selectStream = db.prepare(`SELECT * FROM events WHERE stream_id = ? AND version > ? ORDER BY version`);
    this.selectVersion = db.prepare(`SELECT MAX(version) AS v FROM events WHERE stream_id = ?`);
    this.selectAll = db.prepare(`SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?`);
    this.selectHead = db.prepare(`SELECT COALESCE(MAX(position), 0) AS p FROM events`);
    this.bumpSequence = db.prepare(
      `INSERT INTO id_sequences (name, value) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET value = value + excluded.value RETURNING value`,
    );
    this.runInTransaction = db.transaction((fn: (tx: WriteTx) => unknown) => {
      const result = fn(this.openTx());
      // an async callback would let other commands run before COMMIT: refuse it, and roll back
      if (result instanceof Promise) throw new Error('a write transaction must be synchronous (its callback returned a Promise)');
      return result;
    });
    // Group commit: units queued in the same turn of the event loop share one
    // transaction (one fsync). Each runs in its own SAVEPOINT (better-sqlite3 nests
    // transactions that way), so a unit that throws is rolled back alone, and no
    // caller hears of success before the COMMIT of the whole batch.
    this.runBatch = db.transaction((units: QueuedUnit[]) => {
      // a lone unit needs no SAVEPOINT: if it throws, the whole transaction is its own
      if (units.length === 1) return [{ ok: true, value: this.runInTransaction(units[0].fn) }];
      return units.map((unit): Outcome => {
        const typesBefore = this.appendedTypes.length;
        try {
          return { ok: true, value: this.runInTransaction(unit.fn) };
        } catch (error) {
          this.appendedTypes.length = typesBefore;
          return { ok: false, error };
        }
      });
    });
  }

  /**
   * Runs fn inside one immediate write transaction and returns its result. fn must be
   * synchronous; if it throws, nothing it did is kept. Listeners are told after COMMIT.
   */
  transact<T>(fn: (tx: WriteTx) => T, options: WriteOptions = {}): T {
    if (this.inTransaction) throw new Error('nested write transaction: every write must be one critical section');
    this.setDurable(options.durable !== false);
    this.inTransaction = true;
    let result: T;
    this.appendedUpTo = 0;
    this.appendedTypes = [];
    try {
      result = this.runInTransaction.immediate(fn) as T;
    } finally {
      this.inTransaction = false;
    }
    const appended = this.appendedUpTo;
    if (appended > 0) for (const listener of this.listeners) listener(appended, this.appendedTypes);
    return result;
  }

  /**
   * The same as transact, through the group-commit queue: the way commands write.
   * The promise settles only after the batch holding this unit has committed.
   */
  enqueue<T>(fn: (tx: WriteTx) => T, options: WriteOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ durable: options.durable !== false, fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue.splice(0, SqliteEventStore.MAX_BATCH);
    if (this.queue.length > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    if (this.inTransaction) throw new Error('nested write transaction: every write must be one critical section');
    this.setDurable(batch.some((unit) => unit.durable));
    this.inTransaction = true;
    this.appendedUpTo = 0;
    this.appendedTypes = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.runBatch.immediate(batch);
    } catch (error) {
      // the lone unit threw, or the COMMIT itself failed: nothing of the batch is kept, every caller hears so
      for (const unit of batch) unit.reject(error);
      return;
    } finally {
      this.inTransaction = false;
    }
    const appended = this.appendedUpTo;
    batch.forEach((unit, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
    if (appended > 0) for (const listener of this.listeners) listener(appended, this.appendedTypes);
  }

  /** SQLite's synchronous level can only change between transactions: set it for the next COMMIT. */
  private setDurable(durable: boolean): void {
    const level = durable ? this.durableLevel : 'NORMAL';
    if (level !== this.currentLevel) {
      this.db.pragma(`synchronous = ${level}`);
      this.currentLevel = level;
    }
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  readStream(streamId: string, afterVersion = 0): RecordedEvent[] {
    return (this.selectStream.all(streamId, afterVersion) as EventRow[]).map((row) => this.toRecorded(row));
  }

  /** The global log after a position, in order. */
  readAll(afterPosition: number, limit: number): RecordedEvent[] {
    return (this.selectAll.all(afterPosition, limit) as EventRow[]).map((row) => this.toRecorded(row));
  }

  head(): number {
    return (this.selectHead.get() as { p: number }).p;
  }

  /** A read outside any write transaction (read models, lookups). */
  query<T>(sql: string, params: unknown[] = []): T[] {
    return this.statement(sql).all(...params) as T[];
  }

  queryOne<T>(sql: string, params: unknown[] = []): T | undefined {
    return this.statement(sql).get(...params) as T | undefined;
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private openTx(): WriteTx {
    const now = this.clock.now();
    const occurredAt = now.toISOString();
    return {
      now,
      readStream: (streamId, afterVersion = 0) => this.readStream(streamId, afterVersion),
      streamVersion: (streamId) => (this.selectVersion.get(streamId) as { v: number | null }).v ?? 0,
      append: (streamId, expectedVersion, events, { metadata, occurredAt: importedAt }) => {
        const at = importedAt ?? occurredAt;
        const actual = (this.selectVersion.get(streamId) as { v: number | null }).v ?? 0;
        if (actual !== expectedVersion) throw new WrongExpectedVersionError(streamId, expectedVersion, actual);
        const metadataJson = JSON.stringify(metadata);
        const recorded = events.map((event, i) => {
          const eventId = uuidv7();
          const version = expectedVersion + i + 1;
          const info = this.insertEvent.run(
            eventId,
            streamId,
            version,
            event.type,
            event.schemaVersion,
            JSON.stringify(event.data),
            metadataJson,
            at,
          );
          return {
            position: Number(info.lastInsertRowid),
            eventId,
            streamId,
            version,
            type: event.type,
            schemaVersion: event.schemaVersion,
            data: event.data,
            metadata,
            occurredAt: at,
          };
        });
        if (recorded.length > 0) this.appendedUpTo = recorded[recorded.length - 1].position;
        for (const event of recorded) this.appendedTypes.push(event.type);
        return recorded;
      },
      nextIds: (sequence, count) => {
        if (count === 0) return [];
        const { value } = this.bumpSequence.get(sequence, count) as { value: number };
        return Array.from({ length: count }, (_, i) => value - count + 1 + i);
      },
      exec: (writes) => {
        for (const write of writes) this.statement(write.sql).run(...write.params);
      },
      get: <T>(sql: string, params: unknown[] = []) => this.statement(sql).get(...params) as T | undefined,
    };
  }

  private toRecorded(row: EventRow): RecordedEvent {
    const stored = {
      type: row.type,
      schemaVersion: row.schema_version,
      data: JSON.parse(row.data) as unknown,
    };
    const current = this.upcasters.isEmpty ? stored : this.upcasters.upcast(stored);
    return {
      position: row.position,
      eventId: row.event_id,
      streamId: row.stream_id,
      version: row.version,
      type: current.type,
      schemaVersion: current.schemaVersion,
      data: current.data,
      metadata: JSON.parse(row.metadata) as EventMetadata,
      occurredAt: row.occurred_at,
    };
  }
}
