import type { WriteTx } from '../event-store/event-store.js';
import { invalid } from '../shared/errors.js';
import type { ApprovalStep } from './issue.events.js';

/*
 * What approval decisions read from the read models, in the command's transaction: the
 * project's owners (the approvers of role steps) and whether listed approvers may approve.
 */

type Reader = Pick<WriteTx, 'get' | 'all'>;

/** The project's OWNERs now, by id. */
export async function projectOwners(db: Reader, projectId: number): Promise<number[]> {
  const rows = await db.all<{ user_id: number | string }>(`SELECT user_id FROM rm_project_members WHERE project_id = ? AND role = 'OWNER' ORDER BY user_id`, [projectId]);
  return rows.map((r) => Number(r.user_id));
}

/**
 * Every listed approver must be able to act on the project's issues: a member of it, or a
 * workspace admin. Anyone else could never approve, and the issue would wait forever.
 * `field` names the steps in the request (`approval.steps`, `approvalSteps`).
 */
export async function approversMustBelong(db: Reader, projectId: number, steps: readonly ApprovalStep[], field: string): Promise<void> {
  for (const [i, step] of steps.entries()) {
    if (!('approvers' in step)) continue;
    for (const userId of step.approvers) {
      const row = await db.get<{ role: string; member: number | null }>(
        `SELECT u.role, (SELECT 1 FROM rm_project_members m WHERE m.project_id = ? AND m.user_id = u.id) AS member FROM rm_users u WHERE u.id = ?`,
        [projectId, userId],
      );
      const problem = !row || row.role === 'SYSTEM' ? `user ${userId} does not exist` : row.role !== 'ADMIN' && !row.member ? `user ${userId} is not a member of project ${projectId}` : undefined;
      if (problem) throw invalid(problem, [{ field: `${field}.${i}.approvers`, message: problem }]);
    }
  }
}

/** Whether the user may override a project's default approval: one of its OWNERs, or an admin. */
export async function mayOverrideApproval(db: Reader, projectId: number, userId: number): Promise<boolean> {
  const row = await db.get<{ role: string; member_role: string | null }>(
    `SELECT u.role, (SELECT m.role FROM rm_project_members m WHERE m.project_id = ? AND m.user_id = u.id) AS member_role FROM rm_users u WHERE u.id = ?`,
    [projectId, userId],
  );
  return row?.role === 'ADMIN' || row?.member_role === 'OWNER';
}
