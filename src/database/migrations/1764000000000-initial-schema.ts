import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';

/**
 * The event log (the only source of truth), id sequences, subscription checkpoints,
 * and the read models the REST queries use. Read models (rm_*) can be dropped and
 * rebuilt from the log at any time.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    if (isPostgres(q)) return this.upPostgres(q);
    await q.query(`CREATE TABLE events (
      position       INTEGER PRIMARY KEY AUTOINCREMENT,
      event_id       TEXT    NOT NULL UNIQUE,
      stream_id      TEXT    NOT NULL,
      version        INTEGER NOT NULL,
      type           TEXT    NOT NULL,
      schema_version INTEGER NOT NULL,
      data           TEXT    NOT NULL,
      metadata       TEXT    NOT NULL,
      occurred_at    TEXT    NOT NULL,
      CONSTRAINT uq_events_stream_version UNIQUE (stream_id, version)
    )`);
    await q.query(`CREATE TABLE id_sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
    await q.query(`CREATE TABLE subscription_checkpoints (
      name TEXT PRIMARY KEY, position INTEGER NOT NULL, updated_at TEXT NOT NULL)`);

    await q.query(`CREATE TABLE rm_users (
      id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, role TEXT NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    await q.query(`CREATE UNIQUE INDEX ix_rm_users_email ON rm_users (email)`);
    await q.query(`CREATE TABLE rm_api_tokens (
      token_hash TEXT PRIMARY KEY, token_id INTEGER NOT NULL, user_id INTEGER NOT NULL, created_at TEXT NOT NULL)`);
    await q.query(`CREATE TABLE rm_projects (
      id INTEGER PRIMARY KEY, name TEXT NOT NULL, key TEXT NOT NULL, creator_id INTEGER NOT NULL,
      version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    await q.query(`CREATE UNIQUE INDEX ix_rm_projects_key ON rm_projects (key)`);
    await q.query(`CREATE TABLE rm_project_members (
      project_id INTEGER NOT NULL, user_id INTEGER NOT NULL, role TEXT NOT NULL,
      PRIMARY KEY (project_id, user_id))`);
    await q.query(`CREATE TABLE rm_issues (
      id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, status TEXT NOT NULL, version INTEGER NOT NULL,
      doc TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    await q.query(`CREATE INDEX ix_rm_issues_project ON rm_issues (project_id, id)`);
    await q.query(`CREATE INDEX ix_rm_issues_project_status ON rm_issues (project_id, status, id)`);
    await q.query(`CREATE TABLE rm_comments (
      id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL, creator_id INTEGER NOT NULL, content TEXT NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    await q.query(`CREATE INDEX ix_rm_comments_issue ON rm_comments (issue_id, id)`);
  }

  /**
   * The global order on PostgreSQL: a sequence value (position) is taken when a row is
   * inserted but becomes visible at commit, so with concurrent writers position 7 can be
   * visible before position 6 is, and a reader that remembered "after 7" would skip 6 for
   * good. Each event therefore also keeps the id of the transaction that wrote it
   * (pg_current_xact_id(), xid8: 64-bit, never wraps). Readers take only events with
   * transaction_id < pg_snapshot_xmin(pg_current_snapshot()) (every transaction below
   * the snapshot's xmin has ended: nothing more can appear there) ordered by
   * (transaction_id, position), and remember that pair. The index serves that read.
   */
  private async upPostgres(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE events (
      position       BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      transaction_id xid8    NOT NULL DEFAULT pg_current_xact_id(),
      event_id       TEXT    NOT NULL UNIQUE,
      stream_id      TEXT    NOT NULL,
      version        INTEGER NOT NULL,
      type           TEXT    NOT NULL,
      schema_version INTEGER NOT NULL,
      data           JSONB   NOT NULL,
      metadata       JSONB   NOT NULL,
      occurred_at    TEXT    NOT NULL,
      CONSTRAINT uq_events_stream_version UNIQUE (stream_id, version)
    )`);
    await q.query(`CREATE INDEX ix_events_transaction_position ON events (transaction_id, position)`);
    await q.query(`CREATE TABLE id_sequences (name TEXT PRIMARY KEY, value BIGINT NOT NULL)`);
    await q.query(`CREATE TABLE subscription_checkpoints (
      name TEXT PRIMARY KEY, position BIGINT NOT NULL, updated_at TEXT NOT NULL)`);

    await q.query(`CREATE TABLE rm_users (
      id BIGINT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, role TEXT NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    await q.query(`CREATE UNIQUE INDEX ix_rm_users_email ON rm_users (email)`);
    await q.query(`CREATE TABLE rm_api_tokens (
      token_hash TEXT PRIMARY KEY, token_id BIGINT NOT NULL, user_id BIGINT NOT NULL, created_at TEXT NOT NULL)`);
    await q.query(`CREATE TABLE rm_projects (
      id BIGINT PRIMARY KEY, name TEXT NOT NULL, key TEXT NOT NULL, creator_id BIGINT NOT NULL,
      version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    await q.query(`CREATE UNIQUE INDEX ix_rm_projects_key ON rm_projects (key)`);
    await q.query(`CREATE TABLE rm_project_members (
      project_id BIGINT NOT NULL, user_id BIGINT NOT NULL, role TEXT NOT NULL,
      PRIMARY KEY (project_id, user_id))`);
    await q.query(`CREATE TABLE rm_issues (
      id BIGINT PRIMARY KEY, project_id BIGINT NOT NULL, status TEXT NOT NULL, version INTEGER NOT NULL,
      doc TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    await q.query(`CREATE INDEX ix_rm_issues_project ON rm_issues (project_id, id)`);
    await q.query(`CREATE INDEX ix_rm_issues_project_status ON rm_issues (project_id, status, id)`);
    await q.query(`CREATE TABLE rm_comments (
      id BIGINT PRIMARY KEY, issue_id BIGINT NOT NULL, creator_id BIGINT NOT NULL, content TEXT NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    await q.query(`CREATE INDEX ix_rm_comments_issue ON rm_comments (issue_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'rm_comments', 'rm_issues', 'rm_project_members', 'rm_projects', 'rm_api_tokens', 'rm_users',
      'subscription_checkpoints', 'id_sequences', 'events',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
