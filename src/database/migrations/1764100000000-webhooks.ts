import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';

/**
 * Webhook configuration read model (rebuilt from project streams) and the delivery
 * queue (operational state: created from the log by the webhook subscription, never
 * rebuilt from scratch).
 */
export class Webhooks1764100000000 implements MigrationInterface {
  name = 'Webhooks1764100000000';

  async up(q: QueryRunner): Promise<void> {
    if (isPostgres(q)) return this.upPostgres(q);
    await q.query(`CREATE TABLE rm_webhooks (id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, config TEXT NOT NULL)`);
    await q.query(`CREATE INDEX ix_rm_webhooks_project ON rm_webhooks (project_id)`);
    await q.query(`CREATE TABLE webhook_deliveries (
      id              TEXT PRIMARY KEY,
      webhook_id      INTEGER NOT NULL,
      project_id      INTEGER NOT NULL,
      event_position  INTEGER,
      issue_id        INTEGER,
      activity_type   TEXT    NOT NULL,
      activity        TEXT    NOT NULL,
      status          TEXT    NOT NULL,
      attempt_count   INTEGER NOT NULL DEFAULT 0,
      retry_base      INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL,
      lease_owner     TEXT,
      lease_until     INTEGER,
      last_error      TEXT,
      created_at      INTEGER NOT NULL,
      updated_at      INTEGER NOT NULL,
      CONSTRAINT uq_delivery_event_webhook UNIQUE (event_position, webhook_id)
    )`);
    await q.query(`CREATE INDEX ix_deliveries_due ON webhook_deliveries (status, next_attempt_at)`);
    await q.query(`CREATE INDEX ix_deliveries_webhook ON webhook_deliveries (webhook_id, created_at)`);
    await q.query(`CREATE TABLE webhook_delivery_attempts (
      delivery_id TEXT    NOT NULL,
      number      INTEGER NOT NULL,
      started_at  INTEGER NOT NULL,
      duration_ms INTEGER NOT NULL,
      request     TEXT    NOT NULL,
      response    TEXT,
      error       TEXT,
      verdict     TEXT    NOT NULL,
      PRIMARY KEY (delivery_id, number)
    )`);
    await q.query(`CREATE TABLE webhook_failures (webhook_id INTEGER PRIMARY KEY, consecutive INTEGER NOT NULL, last_error TEXT, updated_at INTEGER NOT NULL)`);
  }

  /** The same tables on PostgreSQL: ids and epoch milliseconds are BIGINT; counts and durations stay INTEGER. */
  private async upPostgres(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE rm_webhooks (id BIGINT PRIMARY KEY, project_id BIGINT NOT NULL, config TEXT NOT NULL)`);
    await q.query(`CREATE INDEX ix_rm_webhooks_project ON rm_webhooks (project_id)`);
    await q.query(`CREATE TABLE webhook_deliveries (
      id              TEXT PRIMARY KEY,
      webhook_id      BIGINT  NOT NULL,
      project_id      BIGINT  NOT NULL,
      event_position  BIGINT,
      issue_id        BIGINT,
      activity_type   TEXT    NOT NULL,
      activity        TEXT    NOT NULL,
      status          TEXT    NOT NULL,
      attempt_count   INTEGER NOT NULL DEFAULT 0,
      retry_base      INTEGER NOT NULL DEFAULT 0,
      next_attempt_at BIGINT  NOT NULL,
      lease_owner     TEXT,
      lease_until     BIGINT,
      last_error      TEXT,
      created_at      BIGINT  NOT NULL,
      updated_at      BIGINT  NOT NULL,
      CONSTRAINT uq_delivery_event_webhook UNIQUE (event_position, webhook_id)
    )`);
    await q.query(`CREATE INDEX ix_deliveries_due ON webhook_deliveries (status, next_attempt_at)`);
    await q.query(`CREATE INDEX ix_deliveries_webhook ON webhook_deliveries (webhook_id, created_at)`);
    await q.query(`CREATE TABLE webhook_delivery_attempts (
      delivery_id TEXT    NOT NULL,
      number      INTEGER NOT NULL,
      started_at  BIGINT  NOT NULL,
      duration_ms INTEGER NOT NULL,
      request     TEXT    NOT NULL,
      response    TEXT,
      error       TEXT,
      verdict     TEXT    NOT NULL,
      PRIMARY KEY (delivery_id, number)
    )`);
    await q.query(`CREATE TABLE webhook_failures (webhook_id BIGINT PRIMARY KEY, consecutive INTEGER NOT NULL, last_error TEXT, updated_at BIGINT NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['webhook_failures', 'webhook_delivery_attempts', 'webhook_deliveries', 'rm_webhooks']) await q.query(`DROP TABLE ${table}`);
  }
}
