import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';

const WAITING = `status IN ('PENDING', 'RETRYING', 'HELD')`;
const OPEN = `status IN ('PENDING', 'RETRYING', 'HELD', 'DELIVERING')`;

/**
 * Operational state for issue 23 (replays run in the background, and a big delivery table
 * stays cheap to work with):
 * - webhook_replays: how far a replay has read its range (scanned_to, a position), whether it
 *   is still scanning, has queued all it sends, or failed (state, error), the rules it decides by (rules: the
 *   webhook's activity types and filter when it started, JSON), and the instance running it
 *   (owner: null while no instance does, after a shutdown). Replays made before ran within
 *   their request: their whole range is read and queued.
 * - ix_deliveries_waiting: per webhook, its waiting deliveries by due time: the dispatcher's
 *   look for what is due reads one index entry per webhook instead of every open delivery.
 * - ix_deliveries_lane: a webhook's open deliveries, live ones (no replay_id) before a
 *   replay's, each in event order: what a claim takes first, so a replay never holds up
 *   live activities.
 * - ix_deliveries_replay (replay_id) becomes (replay_id, event_position, status): a
 *   replay's deliveries counted by status a slice of its range at a time, from the index.
 * - ix_deliveries_issue (issue_id) becomes (issue_id, event_position): the decisions of a
 *   page of an issue's events read that page's deliveries, not all of the issue's.
 */
export class ReplayProgress1764800000000 implements MigrationInterface {
  name = 'ReplayProgress1764800000000';

  async up(q: QueryRunner): Promise<void> {
    const position = isPostgres(q) ? 'BIGINT' : 'INTEGER';
    await q.query(`ALTER TABLE webhook_replays ADD COLUMN scanned_to ${position} NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE webhook_replays ADD COLUMN state TEXT NOT NULL DEFAULT 'queued'`);
    await q.query(`ALTER TABLE webhook_replays ADD COLUMN error TEXT`);
    await q.query(`ALTER TABLE webhook_replays ADD COLUMN rules TEXT`);
    await q.query(`ALTER TABLE webhook_replays ADD COLUMN owner TEXT`);
    await q.query(`ALTER TABLE webhook_replays ADD COLUMN updated_at ${position}`);
    await q.query(`UPDATE webhook_replays SET scanned_to = to_position, updated_at = created_at`);
    await q.query(`CREATE INDEX ix_replays_scanning ON webhook_replays (state) WHERE state = 'scanning'`);
    await q.query(`CREATE INDEX ix_deliveries_waiting ON webhook_deliveries (webhook_id, next_attempt_at) WHERE ${WAITING}`);
    await q.query(`CREATE INDEX ix_deliveries_lane ON webhook_deliveries (webhook_id, (replay_id IS NOT NULL), event_position) WHERE ${OPEN}`);
    await q.query(`DROP INDEX ix_deliveries_replay`);
    await q.query(`CREATE INDEX ix_deliveries_replay ON webhook_deliveries (replay_id, event_position, status) WHERE replay_id IS NOT NULL`);
    await q.query(`DROP INDEX ix_deliveries_issue`);
    await q.query(`CREATE INDEX ix_deliveries_issue ON webhook_deliveries (issue_id, event_position)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_deliveries_issue`);
    await q.query(`CREATE INDEX ix_deliveries_issue ON webhook_deliveries (issue_id)`);
    await q.query(`DROP INDEX ix_deliveries_replay`);
    await q.query(`CREATE INDEX ix_deliveries_replay ON webhook_deliveries (replay_id) WHERE replay_id IS NOT NULL`);
    await q.query(`DROP INDEX ix_deliveries_lane`);
    await q.query(`DROP INDEX ix_deliveries_waiting`);
    await q.query(`DROP INDEX ix_replays_scanning`);
    for (const column of ['updated_at', 'owner', 'rules', 'error', 'state', 'scanned_to']) await q.query(`ALTER TABLE webhook_replays DROP COLUMN ${column}`);
  }
}
