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
 * The ranges of the first partitions (issue 26, docs/scale.md section 3), the log's bounds
 * (PartitionedLog1765400000000 makes them from the same head): one holding every position up to
 * the log's head (the rows already there), then one of `span` after it; on a new database, one of
 * `span` from 1. Ranges added later follow on from the last, of `span` each, in every table alike.
 */
export function firstRanges(head: number, span: number): [number, number][] {
  return head < 1 ? [[1, 1 + span]] : [[1, head + 1], [head + 1, head + 1 + span]];
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
 * the other indexes are as they were. One partition, FROM (MINVALUE) TO (1), holds the test
 * messages; the others are firstRanges() of the log's head and HERALD_PG_PARTITION_SPAN. There is
 * no DEFAULT partition (it would forbid DETACH … CONCURRENTLY). The rows are copied over (in this
 * migration's transaction: about as long as writing the table once) and the old tables dropped.
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
    // the old tables step aside with their indexes (their names are the new tables')
    for (const statement of DELIVERY_INDEXES) await q.query(`DROP INDEX ${indexName(statement)}`);
    await q.query(`ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey`);
    await q.query(`ALTER TABLE webhook_deliveries RENAME TO webhook_deliveries_unpartitioned`);
    await q.query(`ALTER TABLE webhook_delivery_attempts DROP CONSTRAINT webhook_delivery_attempts_pkey`);
    await q.query(`ALTER TABLE webhook_delivery_attempts RENAME TO webhook_delivery_attempts_unpartitioned`);

    await q.query(`CREATE TABLE webhook_deliveries (LIKE webhook_deliveries_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (event_position)`);
    await q.query(`ALTER TABLE webhook_deliveries ALTER COLUMN event_position SET NOT NULL`);
    await q.query(`ALTER TABLE webhook_deliveries ADD PRIMARY KEY (id, event_position)`);
    for (const statement of DELIVERY_INDEXES) await q.query(statement);
    await q.query(`CREATE TABLE webhook_delivery_attempts (LIKE webhook_delivery_attempts_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (event_position)`);
    await q.query(`ALTER TABLE webhook_delivery_attempts ALTER COLUMN event_position SET NOT NULL`);
    await q.query(`ALTER TABLE webhook_delivery_attempts ADD PRIMARY KEY (delivery_id, event_position, number)`);

    const [{ head }] = (await q.query(
      `SELECT GREATEST((SELECT COALESCE(MAX(position), 0) FROM events), (SELECT COALESCE(MAX(event_position), 0) FROM webhook_deliveries_unpartitioned)) AS head`,
    )) as { head: number | string }[];
    const ranges: [string, string][] = [['MINVALUE', '1'], ...firstRanges(Number(head), partitionSpanOf(q.connection.options)).map(([from, to]): [string, string] => [String(from), String(to)])];
    for (const table of ['webhook_deliveries', 'webhook_delivery_attempts']) {
      // RangePartitions' names (<table>_from_<start>): it manages them from here on. New tables: no one waits on their locks
      for (const [from, to] of ranges) {
        await q.query(`CREATE TABLE ${table}_from_${from === 'MINVALUE' ? 'min' : from} PARTITION OF ${table} FOR VALUES FROM (${from}) TO (${to})`);
      }
      await q.query(`INSERT INTO ${table} SELECT * FROM ${table}_unpartitioned`);
      await q.query(`DROP TABLE ${table}_unpartitioned`);
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
