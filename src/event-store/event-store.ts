import { asStorageError, StorageUnavailableError, type StorageFault } from '../database/storage-errors.js';
import type { DomainEvent, EventMetadata, RecordedEvent, SqlWrite } from './event.js';
import type { UpcasterRegistry } from './upcasters.js';

export type Engine = 'sqlite' | 'postgres';

export interface AppendOptions {
  metadata: EventMetadata;
  /** Only for imports of exported streams: keeps the original time. */
  occurredAt?: string;
}

/**
 * Where a reader of the whole log stands. On SQLite the position alone orders the log
 * (one writer at a time). On PostgreSQL concurrent transactions take positions in one
 * order and commit in another, so the log is read in (transaction id, position) order
 * below the oldest transaction still running: see PostgresEventStore.readLog.
 */
export interface LogCursor {
  transactionId: string;
  position: number;
}

export const LOG_START: LogCursor = { transactionId: '0', position: 0 };

/** What every instance is told after a commit besides a grown log: a wake-up only, never data (they read the database). */
export type Signal = 'deliveries';

/** The write side of one transaction: everything it reads sees its own writes, and all of it commits or none. */
export interface WriteTx {
  readonly now: Date;
  /** Tells every instance (this one too) once the transaction has committed; nothing if it rolls back. */
  signal(name: Signal): void;
  readStream(streamId: string, afterVersion?: number): Promise<RecordedEvent[]>;
  /**
   * Makes other writers of this stream wait until this transaction ends (a no-op where
   * there is one writer at a time): concurrent commands to one issue queue up instead of
   * failing on its version and retrying. Take it before the transaction's first write: a
   * transaction id is fixed at the first write, and the log's order is by transaction id,
   * so a stream locked later could show its versions out of order to a subscription.
   */
  lockStream(streamId: string): Promise<void>;
  /**
   * The log after a cursor in the subscriptions' order, every committed event of it: complete
   * only while nothing can append (SQLite: any write transaction; PostgreSQL: once the
   * transaction holds the events table in EXCLUSIVE mode), as in the swap of a rebuild.
   */
  readLogLocked(after: LogCursor, limit: number): Promise<{ events: RecordedEvent[]; cursor: LogCursor }>;
  streamVersion(streamId: string): Promise<number>;
  append(streamId: string, expectedVersion: number, events: DomainEvent[], options: AppendOptions): Promise<RecordedEvent[]>;
  nextIds(sequence: string, count: number): Promise<number[]>;
  exec(writes: SqlWrite[]): Promise<void>;
  get<T>(sql: string, params?: unknown[]): Promise<T | undefined>;
  all<T>(sql: string, params?: unknown[], often?: Often): Promise<T[]>;
}

/**
 * A statement run often with this very text (the delivery queue's that name no position): on PostgreSQL it may
 * run as a named prepared statement, planned once per connection rather than on every call against every
 * partition (issue 26). SQLite keeps every statement prepared anyway.
 */
export type Often = { often: true };
export const OFTEN: Often = { often: true };

export interface WriteOptions {
  /**
   * false for operational bookkeeping (delivery queue, checkpoints) that a power cut
   * may roll back without harm (it is redone, at least once): committed without
   * waiting for the disk. Domain events are always durable. Default true.
   */
  durable?: boolean;
}

/** Told after each COMMIT that appended: the last position, and the types appended (for metrics). */
export type CommitListener = (lastPosition: number, types: readonly string[]) => void;

/** Told of every write that committed, and of every operation that failed on a storage fault (StorageHealth). */
export interface StorageObserver {
  committed(): void;
  failed(fault: StorageFault): void;
}

/**
 * The event log and the tables derived from it, on one engine. SQL is written once,
 * with `?` placeholders and the subset both engines share (ON CONFLICT upserts,
 * RETURNING, CASE instead of MAX/GREATEST of two values).
 */
export abstract class EventStore {
  abstract readonly engine: Engine;
  abstract readonly upcasters: UpcasterRegistry;
  protected readonly listeners = new Set<CommitListener>();
  private readonly storageObservers = new Set<StorageObserver>();
  private readonly signalListeners = new Map<Signal, Set<() => void>>();
  /**
   * Statements sent to the database so far: on PostgreSQL each is a round trip to the
   * server (several statements sent as one count once); on SQLite, a call into the
   * embedded engine. The benchmarks divide it by the deliveries made.
   */
  roundTrips = 0;

  /** Runs fn in one write transaction; if it throws nothing it did is kept. Resolves after COMMIT. */
  abstract transact<T>(fn: (tx: WriteTx) => Promise<T> | T, options?: WriteOptions): Promise<T>;
  /** A stream's events after a version, in order; with a limit, at most that many (a long stream read a page at a time). */
  abstract readStream(streamId: string, afterVersion?: number, limit?: number): Promise<RecordedEvent[]>;
  /** The log in position order (exports, the admin feed). */
  abstract readAll(afterPosition: number, limit: number): Promise<RecordedEvent[]>;
  /**
   * The events at these positions (those the log holds), in position order: for a reader that
   * knows where its events are (a replay's deliveries keep only their event's position).
   */
  async readPositions(positions: readonly number[]): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for (let i = 0; i < positions.length; i += POSITIONS_PER_READ) {
      const chunk = positions.slice(i, i + POSITIONS_PER_READ);
      // a few list lengths only (powers of two, the last position repeated): each is one statement SQLite prepares once
      const padded = [...chunk, ...Array<number>(2 ** Math.ceil(Math.log2(chunk.length)) - chunk.length).fill(chunk[chunk.length - 1])];
      const rows = await this.query<EventRow>(`SELECT * FROM events WHERE position IN (${padded.map(() => '?').join(', ')})`, padded);
      for (const row of rows) events.push(toRecorded(row, this.upcasters));
    }
    return events.sort((a, b) => a.position - b.position);
  }

  /**
   * Parts of several streams in one read, in position order: each stream's events after
   * `afterVersion`, at most `most` of them, none after `toPosition` (a reader that catches up
   * several streams to known events at once: the send of a replay's deliveries).
   */
  async readStreamSpans(spans: readonly StreamSpan[]): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for (let i = 0; i < spans.length; i += SPANS_PER_READ) {
      const chunk = spans.slice(i, i + SPANS_PER_READ);
      const padded = [...chunk, ...Array<StreamSpan>(2 ** Math.ceil(Math.log2(chunk.length)) - chunk.length).fill(chunk[chunk.length - 1])];
      const starts = await this.streamStarts(padded.map((span) => span.streamId));
      // each term is a range of the (stream, version) index; the earliest of the streams' first positions, where known,
      // bounds them all, so only the partitions from there are planned (one bound, not one per term: terms alike but
      // for their stream are read as one `stream_id = ANY` range of that index, which a bound per term would prevent)
      const from = starts ? Math.min(...starts) : 0;
      const rows = await this.query<EventRow>(
        `SELECT * FROM events WHERE (${padded.map(() => '(stream_id = ? AND version > ? AND version <= ? AND position <= ?)').join(' OR ')})${from > 0 ? ' AND position >= ?' : ''}`,
        [...padded.flatMap((span) => [span.streamId, span.afterVersion, span.afterVersion + span.most, span.toPosition]), ...(from > 0 ? [from] : [])],
      );
      for (const row of rows) events.push(toRecorded(row, this.upcasters));
    }
    return events.sort((a, b) => a.position - b.position);
  }

  /**
   * Lower bounds of these streams' positions, where the engine partitions the log by position (PostgreSQL: their
   * first positions); null where nothing is gained by naming them (SQLite: one table, read by its stream index).
   */
  protected streamStarts(_streamIds: readonly string[]): Promise<readonly number[] | null> {
    return Promise.resolve(null);
  }

  /** The log for a checkpointed subscription: every event exactly once, in an order no later commit can break. */
  abstract readLog(after: LogCursor, limit: number): Promise<{ events: RecordedEvent[]; cursor: LogCursor }>;
  /** The highest position taken. */
  abstract head(): Promise<number>;
  /** Where a reader that has read everything readable now stands (a cursor for readLog). */
  abstract headCursor(): Promise<LogCursor>;
  /** Events a reader at this cursor has not read yet (an estimate under concurrent writers). */
  abstract countAfter(after: LogCursor): Promise<number>;
  /** Reads outside any write transaction (read models, lookups): committed data only. */
  abstract query<T>(sql: string, params?: unknown[], often?: Often): Promise<T[]>;
  abstract queryOne<T>(sql: string, params?: unknown[]): Promise<T | undefined>;
  abstract close(): Promise<void>;

  /** Told after each of this instance's COMMITs that appended (metrics count the types). */
  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Told whenever the log grew: by this instance, or (where the engine can tell) by another one. */
  onLogAdvanced(listener: () => void): () => void {
    return this.onCommit(() => listener());
  }

  /** Told after each commit that raised the signal: this instance's, and (where the engine can tell) the others'. */
  onSignal(name: Signal, listener: () => void): () => void {
    const listeners = this.signalListeners.get(name) ?? new Set();
    this.signalListeners.set(name, listeners.add(listener));
    return () => listeners.delete(listener);
  }

  protected signalled(names: Iterable<Signal>): void {
    for (const name of names) for (const listener of this.signalListeners.get(name) ?? []) listener();
  }

  protected announce(lastPosition: number, types: readonly string[]): void {
    if (lastPosition > 0) for (const listener of this.listeners) listener(lastPosition, types);
  }

  /** Told of storage outcomes: every COMMIT, every storage fault. */
  observeStorage(observer: StorageObserver): () => void {
    this.storageObservers.add(observer);
    return () => this.storageObservers.delete(observer);
  }

  /** A small durable write, to learn whether writes work (readiness, the end of an outage): a counter nothing reads. */
  async probeWrite(): Promise<void> {
    await this.transact((tx) =>
      tx.exec([{ sql: `INSERT INTO id_sequences (name, value) VALUES ('storage-probe', 1) ON CONFLICT (name) DO UPDATE SET value = id_sequences.value + 1`, params: [] }]),
    );
  }

  /** Engines call it after each COMMIT. */
  protected storageCommitted(): void {
    for (const observer of this.storageObservers) observer.committed();
  }

  /**
   * Engines pass every error of a storage operation through it: a storage fault becomes a
   * StorageUnavailableError (the observers are told), anything else is returned as it is.
   */
  protected storageError(error: unknown, outcomeUnknown = false): unknown {
    const translated = asStorageError(error, outcomeUnknown);
    if (translated instanceof StorageUnavailableError) for (const observer of this.storageObservers) observer.failed(translated.fault);
    return translated;
  }

  /** Runs a read, passing its error through storageError. */
  protected async reading<T>(read: () => T | Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw this.storageError(error);
    }
  }
}

/** Positions one statement of readPositions asks for (a power of two). */
const POSITIONS_PER_READ = 512;
/** Streams one statement of readStreamSpans reads (a power of two). */
const SPANS_PER_READ = 128;

/** A part of one stream: its events after a version, at most `most` of them, none after a position. */
export interface StreamSpan {
  streamId: string;
  afterVersion: number;
  most: number;
  toPosition: number;
}

export interface EventRow {
  position: number;
  event_id: string;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  data: string | unknown;
  metadata: string | EventMetadata;
  occurred_at: string;
  transaction_id?: string;
}

/** A stored row as the event it is today (upcast). JSON columns arrive as text (SQLite) or parsed (PostgreSQL JSONB). */
export function toRecorded(row: EventRow, upcasters: UpcasterRegistry): RecordedEvent {
  const stored = {
    type: row.type,
    schemaVersion: row.schema_version,
    data: typeof row.data === 'string' ? (JSON.parse(row.data) as unknown) : row.data,
  };
  const current = upcasters.isEmpty ? stored : upcasters.upcast(stored);
  return {
    position: Number(row.position),
    eventId: row.event_id,
    streamId: row.stream_id,
    version: Number(row.version),
    type: current.type,
    schemaVersion: current.schemaVersion,
    data: current.data,
    metadata: typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as EventMetadata) : row.metadata,
    occurredAt: row.occurred_at,
    ...(row.transaction_id !== undefined ? { transactionId: String(row.transaction_id) } : {}),
  };
}
