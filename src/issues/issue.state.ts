import type { Evolving } from '../event-store/event.js';
import { evolveApproval, type ApprovalState } from './issue.approval.js';
import {
  CommentCreated,
  CommentEdited,
  IssueCreated,
  RolloutCompleted,
  RolloutFailed,
  IssueFieldUpdated,
  IssueStatusChanged,
  StageStatusChanged,
  TaskStatusChanged,
  type IssueEvent,
  type IssueStatus,
  type IssueType,
  type TaskStatus,
} from './issue.events.js';

// An issue's state as folded from its stream (evolve): what the decider decides on and the read model mirrors.

export interface TaskState {
  id: number;
  name: string;
  status: TaskStatus;
  skipped: boolean;
  skippedReason: string | null;
}

export interface StageState {
  id: number;
  name: string;
  /** BEGIN was announced for this stage. */
  begun: boolean;
  tasks: TaskState[];
}

/**
 * Who wrote which comment: all an issue's decisions need of its comments (only the
 * author may edit). A persistent list, so adding a comment is O(1) however many the
 * issue has; the comment texts live in the events and the rm_comments read model.
 */
export interface CommentRef {
  id: number;
  creatorId: number;
  next: CommentRef | null;
}

export function findComment(state: IssueState, id: number): CommentRef | undefined {
  for (let c = state.comments; c; c = c.next) if (c.id === id) return c;
  return undefined;
}

export interface IssueState {
  exists: boolean;
  id: number;
  projectId: number;
  name: string;
  type: IssueType;
  description: string;
  status: IssueStatus;
  assigneeId: number | null;
  creatorId: number;
  createdAt: string;
  updatedAt: string;
  stages: StageState[];
  comments: CommentRef | null;
  /** null: the issue needs no approval. */
  approval: ApprovalState | null;
  rollout: RolloutState;
}

/** What was announced of the rollout (the issue's pipeline as a whole). */
export interface RolloutState {
  /** A failure was announced and no failed task has been retried or skipped since. */
  failureAnnounced: boolean;
  completed: boolean;
}

export const initialIssueState: IssueState = {
  exists: false,
  id: 0,
  projectId: 0,
  name: '',
  type: 'bb.issue.general',
  description: '',
  status: 'OPEN',
  assigneeId: null,
  creatorId: 0,
  createdAt: '',
  updatedAt: '',
  stages: [],
  comments: null,
  approval: null,
  rollout: { failureAnnounced: false, completed: false },
};


export function evolveIssue(state: IssueState, event: Evolving<IssueEvent>): IssueState {
  const at = event.occurredAt;
  switch (event.type) {
    case IssueCreated: {
      const d = event.data;
      return {
        exists: true,
        id: d.issueId,
        projectId: d.projectId,
        name: d.name,
        type: d.type,
        description: d.description,
        status: 'OPEN',
        assigneeId: d.assigneeId,
        creatorId: d.creatorId,
        createdAt: at,
        updatedAt: at,
        stages: d.pipeline.stages.map((stage) => ({
          id: stage.id,
          name: stage.name,
          begun: false,
          tasks: stage.tasks.map((task) => ({
            id: task.id,
            name: task.name,
            status: 'PENDING_APPROVAL' as TaskStatus,
            skipped: false,
            skippedReason: null,
          })),
        })),
        comments: null,
        approval: null,
        rollout: { failureAnnounced: false, completed: false },
      };
    }
    case IssueStatusChanged:
      return { ...state, status: event.data.to, updatedAt: at };
    case IssueFieldUpdated:
      return { ...state, [event.data.field]: event.data.to, updatedAt: at };
    case TaskStatusChanged: {
      const d = event.data;
      return {
        ...state,
        updatedAt: at,
        // a failed task retried or skipped: the next failure is news again
        rollout: d.from === 'FAILED' ? { ...state.rollout, failureAnnounced: false } : state.rollout,
        stages: state.stages.map((stage) =>
          stage.id !== d.stageId
            ? stage
            : {
                ...stage,
                tasks: stage.tasks.map((task) =>
                  task.id !== d.taskId
                    ? task
                    : {
                        ...task,
                        status: d.to,
                        skipped: d.to === 'DONE' && d.skipped === true,
                        skippedReason: d.to === 'DONE' && d.skipped ? (d.skippedReason ?? null) : null,
                      },
                ),
              },
        ),
      };
    }
    case StageStatusChanged:
      if (event.data.change !== 'BEGIN') return state;
      return {
        ...state,
        stages: state.stages.map((stage) => (stage.id === event.data.stageId ? { ...stage, begun: true } : stage)),
      };
    case CommentCreated:
      return { ...state, comments: { id: event.data.commentId, creatorId: event.metadata.actorId, next: state.comments } };
    case CommentEdited:
      return state;
    case RolloutFailed:
      return { ...state, rollout: { ...state.rollout, failureAnnounced: true } };
    case RolloutCompleted:
      return { ...state, rollout: { ...state.rollout, completed: true } };
    default: {
      const approval = evolveApproval(state.approval, event);
      return approval === state.approval ? state : { ...state, approval, updatedAt: at };
    }
  }
}

// ---------------------------------------------------------------- decide
