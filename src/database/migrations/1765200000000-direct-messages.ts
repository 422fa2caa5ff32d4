import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';

/**
 * Direct messages (issue 28). rm_im_apps: each project's IM apps (their credentials sealed, as
 * the project's stream holds them). webhook_deliveries.recipient_id: the user a delivery is a
 * direct message to (NULL: the webhook's channel message); a DM is a delivery of its webhook,
 * one per person, with the same queue, retries, record and redelivery. So an event has one
 * delivery per (webhook, person) besides the channel's: the unique key becomes (event, webhook,
 * recipient), NULL counting as 0. SQLite cannot drop a table's constraint: the table is copied
 * into one without it, and its indexes (read from the schema, as they are now) made again: a one-off at the
 * start that costs about 7 s per million deliveries on a busy two-core machine (retention keeps the table bounded).
 */
export class DirectMessages1765200000000 implements MigrationInterface {
  name = 'DirectMessages1765200000000';

  async up(q: QueryRunner): Promise<void> {
    const big = isPostgres(q) ? 'BIGINT' : 'INTEGER';
    await q.query(`CREATE TABLE rm_im_apps (project_id ${big} NOT NULL, type TEXT NOT NULL, config TEXT NOT NULL, PRIMARY KEY (project_id, type))`);
    if (isPostgres(q)) {
      await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN recipient_id BIGINT`);
      await q.query(`ALTER TABLE webhook_deliveries DROP CONSTRAINT uq_delivery_event_webhook`);
    } else {
      await rebuildWithout(q, 'CONSTRAINT uq_delivery_event_webhook UNIQUE (event_position, webhook_id)', 'recipient_id INTEGER');
    }
    await q.query(`CREATE UNIQUE INDEX uq_delivery_event_webhook_recipient ON webhook_deliveries (event_position, webhook_id, COALESCE(recipient_id, 0))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM webhook_deliveries WHERE recipient_id IS NOT NULL`);
    await q.query(`DROP INDEX uq_delivery_event_webhook_recipient`);
    if (isPostgres(q)) {
      await q.query(`ALTER TABLE webhook_deliveries ADD CONSTRAINT uq_delivery_event_webhook UNIQUE (event_position, webhook_id)`);
      await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN recipient_id`);
    } else {
      await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN recipient_id`);
      await q.query(`CREATE UNIQUE INDEX uq_delivery_event_webhook ON webhook_deliveries (event_position, webhook_id)`);
    }
    await q.query(`DROP TABLE rm_im_apps`);
  }
}

/** SQLite: webhook_deliveries again without `constraint`, with `column` added, its rows and indexes kept. */
async function rebuildWithout(q: QueryRunner, constraint: string, column: string): Promise<void> {
  const [table] = (await q.query(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'webhook_deliveries'`)) as { sql: string }[];
  const at = table.sql.indexOf(constraint);
  if (at < 0) throw new Error(`webhook_deliveries has no ${constraint}: the schema is not the one this migration knows`);
  const indexes = (await q.query(`SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'webhook_deliveries' AND sql IS NOT NULL`)) as { sql: string }[];
  const columns = ((await q.query(`PRAGMA table_info(webhook_deliveries)`)) as { name: string }[]).map((c) => c.name).join(', ');
  const created = table.sql.slice(0, at) + column + table.sql.slice(at + constraint.length);
  await q.query(created.replace(/^CREATE TABLE webhook_deliveries/, 'CREATE TABLE webhook_deliveries__new'));
  await q.query(`INSERT INTO webhook_deliveries__new (${columns}) SELECT ${columns} FROM webhook_deliveries`);
  await q.query(`DROP TABLE webhook_deliveries`);
  await q.query(`ALTER TABLE webhook_deliveries__new RENAME TO webhook_deliveries`);
  for (const index of indexes) await q.query(index.sql);
}
