import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';

/**
 * webhook_windows: when a coalescing webhook's last message went (operational, like the
 * deliveries). Kept in memory before, so the first message after a restart went at once
 * however recent the last one was. No rows at first: every window is open.
 */
export class CoalesceWindows1764700000000 implements MigrationInterface {
  name = 'CoalesceWindows1764700000000';

  async up(q: QueryRunner): Promise<void> {
    const id = isPostgres(q) ? 'BIGINT' : 'INTEGER';
    await q.query(`CREATE TABLE webhook_windows (webhook_id ${id} PRIMARY KEY, last_sent_at ${id} NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_windows`);
  }
}
