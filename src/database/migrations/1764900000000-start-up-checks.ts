import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';

/**
 * - log_checks: how far the start-up check has judged the log (see LogCheck), one row per
 *   fingerprint of what it judged by (the schemas, the upcasters): where it stopped, in the
 *   (transaction_id, position) order of the log ('0' on SQLite), and the id of the event there,
 *   so a log that is not the one judged (an import into another database that kept this row)
 *   is judged from its start. A migration that rewrites events in place empties this table.
 * - read_model_rebuilds: each rebuild of the read models, and how far the running one has got
 *   (GET /api/admin/projections/rebuild reads the latest): operational, like the deliveries. At most
 *   one row is `running` (a unique partial index): the claim of a rebuild, wherever it runs.
 */
export class StartUpChecks1764900000000 implements MigrationInterface {
  name = 'StartUpChecks1764900000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = isPostgres(q);
    const big = pg ? 'BIGINT' : 'INTEGER';
    await q.query(`CREATE TABLE log_checks (
      fingerprint    TEXT PRIMARY KEY,
      position       ${big} NOT NULL,
      transaction_id ${pg ? 'xid8' : 'TEXT'} NOT NULL,
      event_id       TEXT NOT NULL,
      events         ${big} NOT NULL,
      checked_at     TEXT NOT NULL)`);
    await q.query(`CREATE TABLE read_model_rebuilds (
      id           TEXT PRIMARY KEY,
      number       ${big} NOT NULL UNIQUE,
      state        TEXT NOT NULL,
      phase        TEXT NOT NULL,
      done         ${big} NOT NULL,
      total        ${big} NOT NULL,
      requested_by TEXT NOT NULL,
      instance     TEXT NOT NULL,
      started_at   TEXT NOT NULL,
      updated_at   TEXT NOT NULL,
      finished_at  TEXT,
      duration_ms  ${big},
      error        TEXT)`);
    // one rebuild at a time, across processes and instances: a second one's row cannot be inserted
    await q.query(`CREATE UNIQUE INDEX ix_read_model_rebuilds_running ON read_model_rebuilds (state) WHERE state = 'running'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_read_model_rebuilds_running`);
    await q.query(`DROP TABLE read_model_rebuilds`);
    await q.query(`DROP TABLE log_checks`);
  }
}
