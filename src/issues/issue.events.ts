import { APPROVAL_ROLES, type ApprovalRole, type ApprovalStep } from '../contract/projects.js';
import type { DomainEvent } from '../event-store/event.js';
import { arrayOf, byTag, bool, custom, describeCheck, int, nullable, object, oneOf, str, type Check, type EventSchemas } from '../event-store/event-schema.js';

export const ISSUE_TYPES = [
  'bb.issue.general',
  'bb.issue.database.create',
  'bb.issue.database.schema.update',
  'bb.issue.database.schema.update.ghost',
  'bb.issue.database.data.update',
] as const;
export type IssueType = (typeof ISSUE_TYPES)[number];

export const ISSUE_STATUSES = ['OPEN', 'DONE', 'CANCELED'] as const;
export type IssueStatus = (typeof ISSUE_STATUSES)[number];

export const TASK_STATUSES = ['PENDING_APPROVAL', 'PENDING', 'RUNNING', 'DONE', 'FAILED', 'CANCELED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const STAGE_STATUSES = ['PENDING_APPROVAL', 'PENDING', 'RUNNING', 'DONE', 'FAILED', 'CANCELED'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

export type IssueField = 'name' | 'description' | 'assigneeId';

/** Stable type strings: stored in the log, never renamed. */
export const IssueCreated = 'issue.created';
export const IssueStatusChanged = 'issue.status-changed';
export const IssueFieldUpdated = 'issue.field-updated';
export const TaskStatusChanged = 'issue.task-status-changed';
export const StageStatusChanged = 'issue.stage-status-changed';
export const CommentCreated = 'issue.comment-created';
export const CommentEdited = 'issue.comment-edited';
/** The issue must be approved, step by step, before its tasks may leave PENDING_APPROVAL. */
export const ApprovalRequired = 'issue.approval-required';
/** A step of the approval starts: its approvers are asked (at creation, after the step before, after a send-back). */
export const ApprovalRequested = 'issue.approval-requested';
export const ApprovalStepApproved = 'issue.approval-step-approved';
export const ApprovalSentBack = 'issue.approval-sent-back';
/** A task failed: announced once, then not again until a failed task is retried or skipped. */
export const RolloutFailed = 'issue.rollout-failed';
/** Every task of every stage is done (or skipped). */
export const RolloutCompleted = 'issue.rollout-completed';

export const APPROVAL_STATUSES = ['PENDING', 'APPROVED', 'SENT_BACK'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** An approval's steps and roles are the API's too (a project's `approvalSteps`, contract/projects.ts). */
export { APPROVAL_ROLES, type ApprovalRole, type ApprovalStep };

export interface PipelineSpec {
  stages: { id: number; name: string; tasks: { id: number; name: string }[] }[];
}

export type IssueCreatedV1 = DomainEvent<
  typeof IssueCreated,
  {
    issueId: number;
    projectId: number;
    name: string;
    type: IssueType;
    description: string;
    assigneeId: number | null;
    creatorId: number;
    pipeline: PipelineSpec;
  }
> & { schemaVersion: 1 };

export type IssueStatusChangedV1 = DomainEvent<
  typeof IssueStatusChanged,
  { issueId: number; projectId: number; from: IssueStatus; to: IssueStatus; comment?: string }
> & { schemaVersion: 1 };

/**
 * Version 2: name and description are strings, never null (version 1 let a `{"name": null}`
 * through; see issue.upcasters.ts for how such events read now). assigneeId is a user id or null.
 */
export type IssueFieldUpdatedV2 = DomainEvent<
  typeof IssueFieldUpdated,
  { issueId: number; projectId: number; field: IssueField; from: string | number | null; to: string | number | null }
> & { schemaVersion: 2 };

export type TaskStatusChangedV1 = DomainEvent<
  typeof TaskStatusChanged,
  {
    issueId: number;
    projectId: number;
    stageId: number;
    taskId: number;
    from: TaskStatus;
    to: TaskStatus;
    skipped?: boolean;
    skippedReason?: string;
    comment?: string;
  }
> & { schemaVersion: 1 };

export type StageStatusChangedV1 = DomainEvent<
  typeof StageStatusChanged,
  { issueId: number; projectId: number; stageId: number; change: 'BEGIN' | 'END'; status: StageStatus }
> & { schemaVersion: 1 };

export type CommentCreatedV1 = DomainEvent<
  typeof CommentCreated,
  { issueId: number; projectId: number; commentId: number; content: string }
> & { schemaVersion: 1 };

export type CommentEditedV1 = DomainEvent<
  typeof CommentEdited,
  { issueId: number; projectId: number; commentId: number; content: string }
> & { schemaVersion: 1 };

export type ApprovalRequiredV1 = DomainEvent<typeof ApprovalRequired, { issueId: number; projectId: number; steps: ApprovalStep[] }> & { schemaVersion: 1 };

/** `step` counts from 0; `approvers` are the users asked, as they were when the step started (a role's members then). */
export type ApprovalRequestedV1 = DomainEvent<typeof ApprovalRequested, { issueId: number; projectId: number; step: number; approvers: number[] }> & {
  schemaVersion: 1;
};

/** The step was approved by the event's actor. */
export type ApprovalStepApprovedV1 = DomainEvent<typeof ApprovalStepApproved, { issueId: number; projectId: number; step: number }> & { schemaVersion: 1 };

/** The event's actor sent the issue back to its creator at `step`. */
export type ApprovalSentBackV1 = DomainEvent<typeof ApprovalSentBack, { issueId: number; projectId: number; step: number; reason: string }> & {
  schemaVersion: 1;
};

export type RolloutFailedV1 = DomainEvent<typeof RolloutFailed, { issueId: number; projectId: number; stageId: number; taskId: number }> & { schemaVersion: 1 };
export type RolloutCompletedV1 = DomainEvent<typeof RolloutCompleted, { issueId: number; projectId: number }> & { schemaVersion: 1 };

export type IssueEvent =
  | IssueCreatedV1
  | IssueStatusChangedV1
  | IssueFieldUpdatedV2
  | TaskStatusChangedV1
  | StageStatusChangedV1
  | CommentCreatedV1
  | CommentEditedV1
  | ApprovalRequiredV1
  | ApprovalRequestedV1
  | ApprovalStepApprovedV1
  | ApprovalSentBackV1
  | RolloutFailedV1
  | RolloutCompletedV1;

const ids = { issueId: int, projectId: int };

/** `{approvers: [ids]}` (at least one) or `{role}`, never both. */
const approvalStep: Check = custom(`roles ${describeCheck(oneOf(APPROVAL_ROLES))}`, (value, path) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path} must be an object`;
  const step = value as Record<string, unknown>;
  if ('approvers' in step === 'role' in step) return `${path} must have either approvers or role`;
  if ('role' in step) return oneOf(APPROVAL_ROLES)(step.role, `${path}.role`);
  if (!Array.isArray(step.approvers) || step.approvers.length === 0) return `${path}.approvers must be a non-empty array`;
  return arrayOf(int)(step.approvers, `${path}.approvers`);
});

/** A list of approval steps (empty allowed: no approval). */
export const APPROVAL_STEPS_SCHEMA: Check = arrayOf(approvalStep);

/** The data each issue event holds at its current version (checked on append, and over the whole log at start). */
export const ISSUE_EVENT_SCHEMAS: EventSchemas = {
  [IssueCreated]: {
    schemaVersion: 1,
    data: object({
      ...ids,
      name: str({ min: 1 }),
      type: oneOf(ISSUE_TYPES),
      description: str(),
      assigneeId: nullable(int),
      creatorId: int,
      pipeline: object({ stages: arrayOf(object({ id: int, name: str({ min: 1 }), tasks: arrayOf(object({ id: int, name: str({ min: 1 }) })) })) }),
    }),
  },
  [IssueStatusChanged]: { schemaVersion: 1, data: object({ ...ids, from: oneOf(ISSUE_STATUSES), to: oneOf(ISSUE_STATUSES) }, { comment: str() }) },
  [IssueFieldUpdated]: {
    schemaVersion: 2,
    data: byTag('field', {
      name: object({ ...ids, from: str(), to: str({ min: 1 }) }),
      description: object({ ...ids, from: str(), to: str() }),
      assigneeId: object({ ...ids, from: nullable(int), to: nullable(int) }),
    }),
  },
  [TaskStatusChanged]: {
    schemaVersion: 1,
    data: object({ ...ids, stageId: int, taskId: int, from: oneOf(TASK_STATUSES), to: oneOf(TASK_STATUSES) }, { skipped: bool, skippedReason: str(), comment: str() }),
  },
  [StageStatusChanged]: { schemaVersion: 1, data: object({ ...ids, stageId: int, change: oneOf(['BEGIN', 'END']), status: oneOf(STAGE_STATUSES) }) },
  [CommentCreated]: { schemaVersion: 1, data: object({ ...ids, commentId: int, content: str({ min: 1 }) }) },
  [CommentEdited]: { schemaVersion: 1, data: object({ ...ids, commentId: int, content: str({ min: 1 }) }) },
  [ApprovalRequired]: {
    schemaVersion: 1,
    data: object({
      ...ids,
      steps: custom(`non-empty ${describeCheck(APPROVAL_STEPS_SCHEMA)}`, (value, path) =>
        Array.isArray(value) && value.length === 0 ? `${path} must not be empty` : APPROVAL_STEPS_SCHEMA(value, path),
      ),
    }),
  },
  [ApprovalRequested]: { schemaVersion: 1, data: object({ ...ids, step: int, approvers: arrayOf(int) }) },
  [ApprovalStepApproved]: { schemaVersion: 1, data: object({ ...ids, step: int }) },
  [ApprovalSentBack]: { schemaVersion: 1, data: object({ ...ids, step: int, reason: str({ min: 1 }) }) },
  [RolloutFailed]: { schemaVersion: 1, data: object({ ...ids, stageId: int, taskId: int }) },
  [RolloutCompleted]: { schemaVersion: 1, data: object({ ...ids }) },
};
