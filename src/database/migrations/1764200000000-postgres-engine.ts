import type { MigrationInterface, QueryRunner } from 'typeorm';

/** TEMPORARY (replaced by the pg-schema branch): the checkpoint's transaction id and the subscription lease. */
export class PostgresEngine1764200000000 implements MigrationInterface {
  name = 'PostgresEngine1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscription_checkpoints ADD COLUMN transaction_id TEXT NOT NULL DEFAULT '0'`);
    await q.query(`CREATE TABLE subscription_leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, lease_until INTEGER NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE subscription_leases`);
    await q.query(`ALTER TABLE subscription_checkpoints DROP COLUMN transaction_id`);
  }
}
