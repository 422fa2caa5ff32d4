import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read-model columns for issue approvals and mentions, the same on both engines:
 * - rm_projects.approval_steps: the project's default approval steps (JSON; '[]' = none);
 * - rm_users.phone, slack_member_id, wecom_user_id: the handles a webhook message may
 *   mention a user by (null = none).
 * A log written before holds no events that set them, so the defaults are what a rebuild
 * would give: no rebuild is needed.
 */
export class ApprovalsAndContacts1764500000000 implements MigrationInterface {
  name = 'ApprovalsAndContacts1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rm_projects ADD COLUMN approval_steps TEXT NOT NULL DEFAULT '[]'`);
    await q.query(`ALTER TABLE rm_users ADD COLUMN phone TEXT`);
    await q.query(`ALTER TABLE rm_users ADD COLUMN slack_member_id TEXT`);
    await q.query(`ALTER TABLE rm_users ADD COLUMN wecom_user_id TEXT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rm_users DROP COLUMN wecom_user_id`);
    await q.query(`ALTER TABLE rm_users DROP COLUMN slack_member_id`);
    await q.query(`ALTER TABLE rm_users DROP COLUMN phone`);
    await q.query(`ALTER TABLE rm_projects DROP COLUMN approval_steps`);
  }
}
