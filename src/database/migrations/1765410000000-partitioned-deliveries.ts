import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres, partitionSpanOf } from '../engine.js';

/** The indexes of webhook_deliveries as the migrations before this one made them on PostgreSQL (but its primary key). */
const DELIVERY_INDEXES = [
  `CREATE UNIQUE INDEX uq_delivery_event_webhook_recipient ON webhook_deliveries (event_position, webhook_id, COALESCE(recipient_id, 0))`,
  `CREATE INDEX ix_deliveries_due ON webhook_deliveries (status, next_attempt_at)`,
  `CREATE INDEX ix_deliveries_webhook ON webhook_deliveries (webhook_id, created_at)`,
  `CREATE INDEX ix_deliveries_lease_expiry ON webhook_deliveries (lease_until) WHERE status = 'DELIVERING'`,
  `CREATE INDEX ix_deliveries_lease_owner ON webhook_deliveries (lease_owner) WHERE status = 'DELIVERING'`,
  `CREATE INDEX ix_deliveries_open ON webhook_deliveries (webhook_id, event_position) WHERE status IN ('PENDING', 'RETRYING', 'HELD', 'DELIVERING')`,
  `CREATE INDEX ix_deliveries_carried_by ON webhook_deliveries (carried_by) WHERE carried_by IS NOT NULL`,
  `CREATE INDEX ix_deliveries_waiting ON webhook_deliveries (webhook_id, next_attempt_at) WHERE status IN ('PENDING', 'RETRYING', 'HELD')`,
  `CREATE INDEX ix_deliveries_lane ON webhook_deliveries (webhook_id, (replay_id IS NOT NULL), event_position) WHERE status IN ('PENDING', 'RETRYING', 'HELD', 'DELIVERING')`,
  `CREATE INDEX ix_deliveries_replay ON webhook_deliveries (replay_id, event_position, status) WHERE replay_id IS NOT NULL`,
  `CREATE INDEX ix_deliveries_issue ON webhook_deliveries (issue_id, event_position)`,
];
const indexName = (statement: string) => /INDEX (\w+) ON/.exec(statement)![1];

/**
 * The ends of the first two partitions (issue 26, docs/scale.md section 3), the log's bounds
 * (PartitionedLog1765400000000 makes them from the same head): the first, FROM (MINVALUE), holds
 * every position up to the log's head (the rows already there, and the test messages below 1),
 * the second `span` more; ranges added later follow on from the last, of `span` each, in every
 * table alike.
 */
export function firstRanges(head: number, span: number): { firstEnd: number; secondEnd: number } {
  const firstEnd = Math.max(head, 0) + 1;
  return { firstEnd, secondEnd: firstEnd + span };
}

/**
 * Issue 26: the deliveries and their attempts partitioned by event position on PostgreSQL.
 *
 * On both engines (the same code runs on both):
 * - a test message (a delivery of no event, event_position NULL until now) takes a position of
 *   its own below 1: −1, −2, … from the `test_messages` sequence (the rows there are numbered by
 *   age, and the sequence set past them);
 * - webhook_delivery_attempts.event_position: its delivery's, written with each attempt (an
 *   attempt whose delivery is gone, none of which Herald leaves, gets 0).
 *
 * On PostgreSQL both tables become `PARTITION BY RANGE (event_position)`: the primary keys take
 * the position in ((id, event_position); (delivery_id, event_position, number)), which a
 * partitioned table's keys must hold; the unique (event, webhook, recipient) key already does;
 * the other indexes are as they were. The old tables are attached as they are as the first
 * partition (no row copied: their indexes adopted, the new primary keys' built), FROM (MINVALUE)
 * to the log's head + 1 as the log's own first range; it takes the test messages from then on and
 * is never dropped (the retention sweeps it). Then one of HERALD_PG_PARTITION_SPAN positions.
 * There is no DEFAULT partition (it would forbid DETACH … CONCURRENTLY).
 * Works on PostgreSQL 14 and later (no identity column, DETACH … CONCURRENTLY is 14's).
 */
export class PartitionedDeliveries1765410000000 implements MigrationInterface {
  name = 'PartitionedDeliveries1765410000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = isPostgres(q);
    await q.query(`ALTER TABLE webhook_delivery_attempts ADD COLUMN event_position ${pg ? 'BIGINT' : 'INTEGER'}`);
    await q.query(
      `WITH numbered AS (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM webhook_deliveries WHERE event_position IS NULL)
       UPDATE webhook_deliveries SET event_position = -(SELECT n FROM numbered WHERE numbered.id = webhook_deliveries.id) WHERE event_position IS NULL`,
    );
    await q.query(
      `INSERT INTO id_sequences (name, value) SELECT 'test_messages', COALESCE(-MIN(event_position), 0) FROM webhook_deliveries WHERE event_position < 1
       ON CONFLICT (name) DO UPDATE SET value = CASE WHEN excluded.value > id_sequences.value THEN excluded.value ELSE id_sequences.value END`,
    );
    await q.query(
      `UPDATE webhook_delivery_attempts SET event_position = COALESCE((SELECT d.event_position FROM webhook_deliveries d WHERE d.id = webhook_delivery_attempts.delivery_id), 0)`,
    );
    if (pg) await this.partition(q);
  }

  private async partition(q: QueryRunner): Promise<void> {
    const [{ head }] = (await q.query(
      `SELECT GREATEST((SELECT COALESCE(MAX(position), 0) FROM events), (SELECT COALESCE(MAX(event_position), 0) FROM webhook_deliveries)) AS head`,
    )) as { head: number | string }[];
    // the old tables become the first range as they are (not copied): the test messages and every delivery up to the head
    const { firstEnd, secondEnd } = firstRanges(Number(head), partitionSpanOf(q.connection.options));
    // their indexes keep their definitions (ATTACH adopts them as the partition's) and give up their names to the new tables'
    for (const statement of DELIVERY_INDEXES) await q.query(`ALTER INDEX ${indexName(statement)} RENAME TO ${indexName(statement)}_min`);
    for (const table of ['webhook_deliveries', 'webhook_delivery_attempts']) {
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_pkey`);
      await q.query(`ALTER TABLE ${table} RENAME TO ${table}_from_min`);
      await q.query(`ALTER TABLE ${table}_from_min ALTER COLUMN event_position SET NOT NULL`);
      // the range's bound as a constraint: ATTACH then takes it as proven instead of reading the table again
      await q.query(`ALTER TABLE ${table}_from_min ADD CONSTRAINT ${table}_from_min_bound CHECK (event_position < ${firstEnd})`);
      await q.query(`CREATE TABLE ${table} (LIKE ${table}_from_min INCLUDING DEFAULTS) PARTITION BY RANGE (event_position)`);
    }
    await q.query(`ALTER TABLE webhook_deliveries ADD PRIMARY KEY (id, event_position)`);
    for (const statement of DELIVERY_INDEXES) await q.query(statement);
    await q.query(`ALTER TABLE webhook_delivery_attempts ADD PRIMARY KEY (delivery_id, event_position, number)`);
    for (const table of ['webhook_deliveries', 'webhook_delivery_attempts']) {
      // the primary key's index is built on it here (the old key had no position); the other indexes are adopted
      await q.query(`ALTER TABLE ${table} ATTACH PARTITION ${table}_from_min FOR VALUES FROM (MINVALUE) TO (${firstEnd})`);
      await q.query(`ALTER TABLE ${table}_from_min DROP CONSTRAINT ${table}_from_min_bound`);
      // RangePartitions' names (<table>_from_<start>): it manages them from here on. New tables: no one waits on their locks
      await q.query(`CREATE TABLE ${table}_from_${firstEnd} PARTITION OF ${table} FOR VALUES FROM (${firstEnd}) TO (${secondEnd})`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (isPostgres(q)) {
      for (const table of ['webhook_deliveries', 'webhook_delivery_attempts']) {
        await q.query(`CREATE TABLE ${table}_unpartitioned (LIKE ${table} INCLUDING DEFAULTS)`);
        await q.query(`INSERT INTO ${table}_unpartitioned SELECT * FROM ${table}`);
        await q.query(`DROP TABLE ${table}`);
        await q.query(`ALTER TABLE ${table}_unpartitioned RENAME TO ${table}`);
      }
      await q.query(`ALTER TABLE webhook_deliveries ALTER COLUMN event_position DROP NOT NULL`);
      await q.query(`ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id)`);
      for (const statement of DELIVERY_INDEXES) await q.query(statement);
      await q.query(`ALTER TABLE webhook_delivery_attempts ADD CONSTRAINT webhook_delivery_attempts_pkey PRIMARY KEY (delivery_id, number)`);
    }
    await q.query(`UPDATE webhook_deliveries SET event_position = NULL WHERE event_position < 1`);
    await q.query(`DELETE FROM id_sequences WHERE name = 'test_messages'`);
    await q.query(`ALTER TABLE webhook_delivery_attempts DROP COLUMN event_position`);
  }
}
