import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';

/**
 * webhook_pace: the receivers' pace, shared by every instance on the database (operational,
 * like the deliveries; see SharedPace). One row per receiver (`<TYPE>:<hash of what it counts
 * by>`: a DingTalk robot's access_token, a Google Chat space, else the webhook's URL) with its
 * latest sends (`sent`: 13-digit millisecond times, oldest first) and the time it is blocked
 * until (`blocked_until`: a 429, DingTalk's 130101…); one row per provider (`<TYPE>`) for a block
 * of the sender as a whole (Discord's global limit). Kept in each process's memory before, so
 * three instances sent three times a receiver's limit, and a restart forgot a block.
 */
export class ReceiverPace1765000000000 implements MigrationInterface {
  name = 'ReceiverPace1765000000000';

  async up(q: QueryRunner): Promise<void> {
    const big = isPostgres(q) ? 'BIGINT' : 'INTEGER';
    await q.query(`CREATE TABLE webhook_pace (key TEXT PRIMARY KEY, sent TEXT NOT NULL, blocked_until ${big} NOT NULL, updated_at ${big} NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_pace`);
  }
}
