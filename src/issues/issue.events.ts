import type { DomainEvent } from '../event-store/event.js';

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

export type StageStatus = 'PENDING_APPROVAL' | 'PENDING' | 'RUNNING' | 'DONE' | 'FAILED' | 'CANCELED';

export type IssueField = 'name' | 'description' | 'assigneeId';

/** Stable type strings: stored in the log, never renamed. */
export const IssueCreated = 'issue.created';
export const IssueStatusChanged = 'issue.status-changed';
export const IssueFieldUpdated = 'issue.field-updated';
export const TaskStatusChanged = 'issue.task-status-changed';
export const StageStatusChanged = 'issue.stage-status-changed';
export const CommentCreated = 'issue.comment-created';
export const CommentEdited = 'issue.comment-edited';

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

export type IssueFieldUpdatedV1 = DomainEvent<
  typeof IssueFieldUpdated,
  { issueId: number; projectId: number; field: IssueField; from: string | number | null; to: string | number | null }
> & { schemaVersion: 1 };

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

export type IssueEvent =
  | IssueCreatedV1
  | IssueStatusChangedV1
  | IssueFieldUpdatedV1
  | TaskStatusChangedV1
  | StageStatusChangedV1
  | CommentCreatedV1
  | CommentEditedV1;
