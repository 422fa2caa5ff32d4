import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';

/**
 * What several instances on one database need, on both engines (a single SQLite process
 * leaves them at their defaults):
 * - subscription_checkpoints.transaction_id: with `position`, where a subscription stopped
 *   in the (transaction_id, position) order of the log (see the events table in
 *   InitialSchema); '0' is before every event. xid8 on PostgreSQL, TEXT on SQLite.
 * - subscription_leases: one active consumer per subscription across instances. The
 *   holder renews lease_until (epoch ms); another instance takes over once it has passed.
 * - on PostgreSQL, a partial index for reclaiming deliveries whose lease expired (due
 *   ones are found through ix_deliveries_due), claimed with FOR UPDATE SKIP LOCKED.
 */
export class PostgresEngine1764200000000 implements MigrationInterface {
  name = 'PostgresEngine1764200000000';

  async up(q: QueryRunner): Promise<void> {
    if (isPostgres(q)) {
      await q.query(`ALTER TABLE subscription_checkpoints ADD COLUMN transaction_id xid8 NOT NULL DEFAULT '0'`);
      await q.query(`CREATE TABLE subscription_leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, lease_until BIGINT NOT NULL)`);
      await q.query(`CREATE INDEX ix_deliveries_lease_expiry ON webhook_deliveries (lease_until) WHERE status = 'DELIVERING'`);
      return;
    }
    await q.query(`ALTER TABLE subscription_checkpoints ADD COLUMN transaction_id TEXT NOT NULL DEFAULT '0'`);
    await q.query(`CREATE TABLE subscription_leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, lease_until INTEGER NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    if (isPostgres(q)) await q.query(`DROP INDEX ix_deliveries_lease_expiry`);
    await q.query(`DROP TABLE subscription_leases`);
    await q.query(`ALTER TABLE subscription_checkpoints DROP COLUMN transaction_id`);
  }
}
