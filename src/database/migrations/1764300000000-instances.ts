import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';

/**
 * The running instances (operational state): each Herald process has a row it renews
 * every second. An instance whose heartbeat has stopped is dead: its delivery leases are
 * released at once (on SQLite, where one process serves the file, every other row is
 * dead when a process starts). The index finds one owner's leases.
 */
export class Instances1764300000000 implements MigrationInterface {
  name = 'Instances1764300000000';

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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_deliveries_lease_owner`);
    await q.query(`DROP TABLE herald_instances`);
  }
}
