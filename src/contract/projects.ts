export const PROJECT_ROLES = ['OWNER', 'DEVELOPER'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

export const APPROVAL_ROLES = ['OWNER'] as const;
export type ApprovalRole = (typeof APPROVAL_ROLES)[number];

/** One step of an approval: any one of the listed users approves it, or any member holding the role. */
export type ApprovalStep = { approvers: number[] } | { role: ApprovalRole };

/** GET /api/projects/{id}, and the items of GET /api/projects. */
export interface ProjectView {
  id: number;
  name: string;
  key: string;
  /** The approval new issues need unless they name their own; empty: none. */
  approvalSteps: ApprovalStep[];
  /** The project stream's version: also the ETag. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** GET /api/projects/{id}/members. */
export interface MemberView {
  userId: number;
  name: string;
  email: string;
  role: ProjectRole;
}
