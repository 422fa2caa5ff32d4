import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { RangePartitions, type PartitionPool } from './range-partitions.js';
import type { StorageFault } from './storage-errors.js';

/** The tables partitioned by a log position, and their key: all share the log's bounds, so a delivery sits with its event. */
export const POSITION_PARTITIONED: readonly { table: string; column: string }[] = [
  { table: 'events', column: 'position' },
  { table: 'webhook_deliveries', column: 'event_position' },
  { table: 'webhook_delivery_attempts', column: 'event_position' },
];

/** What the keeper needs of the log (the EventStore, which sits above this layer). */
export interface KeptLog {
  head(): Promise<number>;
  /** Told after each of this instance's commits that appended, with its last position. */
  onCommit(listener: (lastPosition: number) => void): () => void;
  observeStorage(observer: { committed(): void; failed(fault: StorageFault): void }): () => void;
}

/** Turns this often besides the commits that call for one (other instances' commits, a failure tried again). */
const TURN_EVERY_MS = 60_000;

/**
 * Keeps the partitions of the log, and of every table partitioned like it, ahead of the log on PostgreSQL
 * (issue 26; docs/scale.md, section 3): the last partition of each ends more than one span past the log's
 * head. There is no DEFAULT partition: a row past the last one is refused (answered 503, see storage-errors.ts).
 *
 * A turn runs before Herald serves, every minute, and after a commit of this instance that passed the
 * last partition's end less one span; one at a time (a turn asked for meanwhile runs once after it). Instances
 * take turns through RangePartitions' advisory lock. A failure is logged and tried again at the next turn.
 */
export class PartitionKeeper implements OnModuleDestroy {
  private readonly logger = new Logger('PartitionKeeper');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** Where a commit calls for a turn: the log's last partition end less one span (0: not known yet, any commit does). */
  private threshold = 0;
  private readonly unsubscribe: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly pool: PartitionPool,
    private readonly log: KeptLog,
    /** Positions per partition (HERALD_PG_PARTITION_SPAN). */
    readonly span: number,
    /** The turns besides the commits' (a minute; tests shorten it). */
    private readonly everyMs = TURN_EVERY_MS,
  ) {}

  /** The first turn (awaited: Herald serves after it), then the minute's and the commits'. */
  async start(): Promise<void> {
    await this.turn();
    if (this.closed) return;
    this.timer = setInterval(() => void this.turn(), this.everyMs);
    this.timer.unref();
    this.unsubscribe.push(
      this.log.onCommit((position) => {
        if (position > this.threshold) void this.turn();
      }),
      this.log.observeStorage({ committed: () => undefined, failed: (fault) => fault.kind === 'no-partition' && void this.turn() }),
    );
  }

  /** One turn, single-flight: a turn asked for while one runs runs once more after it. Never throws (it logs). */
  turn(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.keepAhead();
      } while (this.again && !this.closed);
    })().finally(() => (this.running = null));
    return this.running;
  }

  /**
   * Makes the partitions reach past what `count` more positions will need, before they are appended (an import
   * appends up to 500 events a transaction, more than a short span holds; the commits' turns come after).
   */
  async reserve(count: number): Promise<void> {
    await this.running;
    await this.keepAhead(count, true);
  }

  /** No turn starts after it; resolves once the one running (if any) has ended, before the pool closes. */
  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const off of this.unsubscribe.splice(0)) off();
    await this.running;
  }

  /** `strict`: a failure is thrown, not only logged (the caller must not go on without the partitions). */
  private async keepAhead(extra = 0, strict = false): Promise<void> {
    let head: number;
    let tables: { table: string; column: string }[];
    try {
      head = await this.log.head();
      tables = await this.partitionedTables();
    } catch (error) {
      this.logger.error({ err: error, event: 'partitions-not-kept' }, `could not read the log's head or its partitioned tables: ${(error as Error).message}; tried again at the next turn`);
      if (strict) throw error;
      return;
    }
    const upTo = head + extra + this.span;
    for (const { table, column } of tables) {
      try {
        const partitions = new RangePartitions(this.pool, table, column);
        const added = await partitions.extendPast(upTo, this.span);
        if (added.length > 0) {
          this.logger.log({ event: 'partitions-added', table, head, partitions: added.map((p) => p.name), from: added[0].from, to: added[added.length - 1].to }, `${table}: ${added.length} partition(s) added ahead of the log`);
        }
        if (table === 'events') {
          const last = added[added.length - 1] ?? (await partitions.list()).pop();
          if (last?.to != null) this.threshold = last.to - this.span;
        }
      } catch (error) {
        this.logger.error(
          { err: error, event: 'partitions-not-kept', table, head, upTo, span: this.span },
          `could not add partitions to ${table} up to position ${upTo} (head ${head}): ${(error as Error).message}; tried again at the next turn`,
        );
        if (strict) throw error;
      }
    }
  }

  /** Those of POSITION_PARTITIONED this database has partitioned (the others are plain tables: nothing to keep). */
  private async partitionedTables(): Promise<{ table: string; column: string }[]> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ table: string }>(
        `SELECT c.relname AS table FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1)`,
        [POSITION_PARTITIONED.map((t) => t.table)],
      );
      const found = new Set(rows.map((r) => r.table));
      return POSITION_PARTITIONED.filter((t) => found.has(t.table));
    } finally {
      client.release();
    }
  }
}
