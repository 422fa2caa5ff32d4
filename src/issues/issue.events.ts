import type { DomainEvent } from '../event-store/event.js';
import { arrayOf, byTag, bool, int, nullable, object, oneOf, str, type EventSchemas } from '../event-store/event-schema.js';

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

export type IssueEvent =
  | IssueCreatedV1
  | IssueStatusChangedV1
  | IssueFieldUpdatedV2
  | TaskStatusChangedV1
  | StageStatusChangedV1
  | CommentCreatedV1
  | CommentEditedV1;

const ids = { issueId: int, projectId: int };

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
};
