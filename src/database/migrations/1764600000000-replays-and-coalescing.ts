import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';

/**
 * Operational state for issue 15:
 * - webhook_replays: a replay (or backfill) of the log to one webhook: its range and how
 *   many deliveries it queued; webhook_deliveries.replay_id names the replay that queued
 *   (or requeued) a delivery, so its progress is counted by status.
 * - webhook_deliveries.carried_by: a COALESCED delivery names the delivery whose message
 *   carried it (a chat webhook's window).
 * - ix_deliveries_issue: an issue's deliveries, for its decisions.
 * Existing rows need nothing: no replay queued them and none was coalesced.
 */
export class ReplaysAndCoalescing1764600000000 implements MigrationInterface {
  name = 'ReplaysAndCoalescing1764600000000';

  async up(q: QueryRunner): Promise<void> {
    const id = isPostgres(q) ? 'BIGINT' : 'INTEGER';
    await q.query(`CREATE TABLE webhook_replays (
      id            TEXT PRIMARY KEY,
      webhook_id    ${id} NOT NULL,
      project_id    ${id} NOT NULL,
      from_position ${id} NOT NULL,
      to_position   ${id} NOT NULL,
      request       TEXT NOT NULL,
      count         INTEGER NOT NULL,
      actor_id      ${id} NOT NULL,
      created_at    ${id} NOT NULL
    )`);
    await q.query(`CREATE INDEX ix_replays_webhook ON webhook_replays (webhook_id, created_at)`);
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN replay_id TEXT`);
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN carried_by TEXT`);
    await q.query(`CREATE INDEX ix_deliveries_replay ON webhook_deliveries (replay_id) WHERE replay_id IS NOT NULL`);
    await q.query(`CREATE INDEX ix_deliveries_carried_by ON webhook_deliveries (carried_by) WHERE carried_by IS NOT NULL`);
    await q.query(`CREATE INDEX ix_deliveries_issue ON webhook_deliveries (issue_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_deliveries_issue`);
    await q.query(`DROP INDEX ix_deliveries_carried_by`);
    await q.query(`DROP INDEX ix_deliveries_replay`);
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN carried_by`);
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN replay_id`);
    await q.query(`DROP INDEX ix_replays_webhook`);
    await q.query(`DROP TABLE webhook_replays`);
  }
}
