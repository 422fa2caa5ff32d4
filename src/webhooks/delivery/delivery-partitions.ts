import { Inject, Injectable, Logger } from '@nestjs/common';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { HERALD_CONFIG, PARTITION_SPAN, type HeraldConfig } from '../../config/config.js';
import { pgPool } from '../../database/data-source.js';
import { holds, RangePartitions, type RangePartition } from '../../database/range-partitions.js';
import { SUBSCRIPTION_NAME } from '../subscription/schedule-deliveries.js';
import { OPEN } from './queue-sql.js';

/** Rows in a range that keep it: an open delivery, or one changed since the retention's limit (`$1`). */
const KEPT = `${OPEN} OR updated_at >= $1`;

/** A range dropped whole by the retention: its deliveries' and attempts' partitions. */
export interface DroppedRange {
  from: number;
  to: number;
  deliveries: string;
  attempts: string | null;
  /** The deliveries it held. */
  rows: number;
}

/**
 * The partitions of webhook_deliveries and webhook_delivery_attempts on PostgreSQL (issue 26,
 * docs/scale.md section 3): both partitioned by event position with the same ranges, so a
 * delivery and its attempts sit in partitions of the same range and leave together. Test
 * messages (positions below 1) are in the first partition, FROM (MINVALUE), never dropped (on a
 * database partitioned by the upgrade it holds the deliveries from before it too: the sweep removes them).
 *
 * Partitions ahead of the log are made for every partitioned table by the one job that keeps
 * them (with the log's); this class makes a dropped range again when old positions get
 * deliveries (a replay), and drops ranges past the retention. On SQLite there are no
 * partitions: every method does nothing.
 */
@Injectable()
export class DeliveryPartitions {
  private readonly logger = new Logger('DeliveryPartitions');
  private readonly pool: pg.Pool | null;
  private readonly deliveries: RangePartitions | null;
  private readonly attempts: RangePartitions | null;
  readonly span: number;

  constructor(ds: DataSource, @Inject(HERALD_CONFIG) config: HeraldConfig) {
    this.pool = ds.options.type === 'postgres' ? pgPool(ds) : null;
    this.deliveries = this.pool && new RangePartitions(this.pool, 'webhook_deliveries', 'event_position');
    this.attempts = this.pool && new RangePartitions(this.pool, 'webhook_delivery_attempts', 'event_position');
    this.span = (config.database.kind === 'postgres' && config.database.partitionSpan) || PARTITION_SPAN;
  }

  /** Adds partitions of the span to both tables until each ends past `upTo` (what the keeper of partitions does ahead of the log). */
  async extendPast(upTo: number): Promise<void> {
    if (!this.deliveries || !this.attempts) return;
    await this.deliveries.extendPast(upTo, this.span);
    await this.attempts.extendPast(upTo, this.span);
  }

  /**
   * Makes sure both tables have a partition for each of these positions before deliveries are
   * written at them: a range the retention dropped is made again (empty, aligned to its
   * neighbours). A position past the last partition is not a dropped range: partitions are made
   * ahead of the log's head, so a write there means they were not, and that is an error.
   * Returns the partitions made.
   */
  async cover(positions: readonly number[]): Promise<RangePartition[]> {
    if (!this.deliveries || !this.attempts || positions.length === 0) return [];
    const made: RangePartition[] = [];
    for (const table of [this.deliveries, this.attempts]) {
      const partitions = await table.list();
      const last = partitions[partitions.length - 1];
      for (const position of [...new Set(positions)].sort((a, b) => a - b)) {
        if (partitions.some((p) => holds(p, position))) continue;
        if (!last || (last.to !== null && position >= last.to)) {
          throw new Error(
            `no partition of ${table.table} holds event position ${position} (the last ends before ${last?.to ?? 'none'}): partitions are made ahead of the log's head, and were not`,
          );
        }
        const partition = await table.cover(position, this.span);
        if (partition) {
          partitions.push(partition);
          made.push(partition);
          this.logger.log({ partition: partition.name, from: partition.from, to: partition.to }, 'made a dropped range of deliveries again, for deliveries of old events');
        }
      }
    }
    return made;
  }

  /**
   * Drops the ranges (deliveries and attempts) that the retention may remove whole: not the test
   * messages', wholly below the log's head and what the webhook subscription has scheduled,
   * their last event older than `before` (epoch ms), and none of their deliveries open or
   * changed since `before`. The check is made again on the detached table before it is dropped
   * (a replay may have written there meanwhile: it is then attached again). An attempts'
   * partition whose deliveries' range is gone goes too (a drop that stopped half way).
   */
  async dropFinished(before: number): Promise<DroppedRange[]> {
    if (!this.pool || !this.deliveries || !this.attempts) return [];
    const [{ head, scheduled }] = (
      await this.pool.query<{ head: number | null; scheduled: number | null }>(
        `SELECT (SELECT MAX(position) FROM events) AS head, (SELECT position FROM subscription_checkpoints WHERE name = $1) AS scheduled`,
        [SUBSCRIPTION_NAME],
      )
    ).rows;
    const below = Math.min(Number(head ?? 0), Number(scheduled ?? 0));
    const dropped: DroppedRange[] = [];
    const attempts = await this.attempts.list();
    for (const p of await this.deliveries.list()) {
      if (p.from === null || p.from < 1 || p.to === null || p.to - 1 > below) continue;
      if (!(await this.eventsOlderThan(p.to, before)) || (await this.keeps(this.pool, p.name, before))) continue;
      let rows = 0;
      const recheck = async (client: pg.ClientBase) => {
        const { rows: [seen] } = await client.query<{ kept: boolean; n: number }>(`SELECT COUNT(*) FILTER (WHERE ${KEPT}) > 0 AS kept, COUNT(*) AS n FROM "${p.name}"`, [before]);
        rows = Number(seen.n);
        return seen.kept;
      };
      if (!(await this.deliveries.drop(p.name, recheck))) continue;
      const partner = attempts.find((a) => a.from === p.from && a.to === p.to);
      if (partner) await this.attempts.drop(partner.name);
      dropped.push({ from: p.from, to: p.to, deliveries: p.name, attempts: partner?.name ?? null, rows });
      this.logger.log({ partition: p.name, from: p.from, to: p.to, deliveries: rows }, 'dropped a range of finished deliveries past the retention');
    }
    // attempts whose deliveries' range is gone (their deliveries with it); the deliveries read after the attempts:
    // a range made again meanwhile (cover makes the deliveries' partition first) is then seen in both
    const orphans = await this.attempts.list();
    const ranges = await this.deliveries.list();
    for (const a of orphans) {
      if (a.from === null || a.from < 1 || a.to === null || a.to - 1 > below) continue;
      if (!ranges.some((p) => overlaps(p, a))) await this.attempts.drop(a.name);
    }
    return dropped;
  }

  /** The log's last event below `to` (the range's last, or an earlier one) is older than `before`. */
  private async eventsOlderThan(to: number, before: number): Promise<boolean> {
    const { rows } = await this.pool!.query<{ occurred_at: string }>(`SELECT occurred_at FROM events WHERE position < $1 ORDER BY position DESC LIMIT 1`, [to]);
    return rows.length === 0 || Date.parse(rows[0].occurred_at) < before;
  }

  private async keeps(db: pg.ClientBase | pg.Pool, partition: string, before: number): Promise<boolean> {
    const { rows } = await db.query<{ kept: boolean }>(`SELECT EXISTS (SELECT 1 FROM "${partition}" WHERE ${KEPT}) AS kept`, [before]);
    return rows[0].kept;
  }
}

function overlaps(a: RangePartition, b: RangePartition): boolean {
  return (a.from ?? -Infinity) < (b.to ?? Infinity) && (b.from ?? -Infinity) < (a.to ?? Infinity);
}
