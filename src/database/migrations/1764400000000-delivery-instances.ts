import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';

/**
 * - herald_instances (operational state): each Herald process has a row it renews every
 *   second. An instance whose heartbeat has stopped is dead: its delivery leases are
 *   released at once (on SQLite, where one process serves the file, every other row is
 *   dead when a process starts). ix_deliveries_lease_owner finds one owner's leases.
 * - ix_deliveries_open: a webhook's open deliveries in event order, for the claim (and an
 *   ordered webhook's look at earlier ones); finished deliveries are kept for days and
 *   would otherwise be read on every claim.
 */
export class DeliveryInstances1764400000000 implements MigrationInterface {
  name = 'DeliveryInstances1764400000000';

  async up(q: QueryRunner): Promise<void> {
    const [id, time] = isPostgres(q) ? ['BIGINT', 'BIGINT'] : ['INTEGER', 'INTEGER'];
    await q.query(`CREATE TABLE herald_instances (
      id           TEXT PRIMARY KEY,
      host         TEXT    NOT NULL,
      pid          ${id} NOT NULL,
      started_at   ${time} NOT NULL,
      heartbeat_at ${time} NOT NULL
    )`);
    await q.query(`CREATE INDEX ix_deliveries_lease_owner ON webhook_deliveries (lease_owner) WHERE status = 'DELIVERING'`);
    await q.query(`CREATE INDEX ix_deliveries_open ON webhook_deliveries (webhook_id, event_position) WHERE status IN ('PENDING', 'RETRYING', 'HELD', 'DELIVERING')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_deliveries_open`);
    await q.query(`DROP INDEX ix_deliveries_lease_owner`);
    await q.query(`DROP TABLE herald_instances`);
  }
}
