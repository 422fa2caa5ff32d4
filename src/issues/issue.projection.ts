import type { AggregateDefinition, Projection } from '../event-store/aggregate-store.js';
import type { RecordedEvent, SqlWrite } from '../event-store/event.js';
import type { ApprovalState } from './issue.approval.js';
import { evolveIssue, initialIssueState, type IssueState } from './issue.state.js';
import { CommentCreated, CommentEdited, ISSUE_EVENT_SCHEMAS, IssueCreated, type CommentCreatedV1, type CommentEditedV1, type IssueEvent } from './issue.events.js';
import { stageStatus } from './issue.rules.js';

export interface IssueView {
  id: number;
  projectId: number;
  name: string;
  type: string;
  status: string;
  description: string;
  assigneeId: number | null;
  creatorId: number;
  version: number;
  createdAt: string;
  updatedAt: string;
  pipeline: {
    stages: {
      id: number;
      name: string;
      status: string;
      tasks: { id: number; name: string; status: string; skipped: boolean; skippedReason: string | null }[];
    }[];
  };
  /** null: the issue needs no approval. */
  approval: ApprovalView | null;
}

export interface ApprovalView {
  status: string;
  /** The index (from 0) of the step waiting for a decision; null once approved. */
  currentStep: number | null;
  /** The users asked to approve the current step (a role step's members when it started). */
  currentApprovers: number[];
  steps: { approvers: number[] | null; role: string | null; approvedBy: number | null; approvedAt: string | null }[];
  sentBack: { by: number; at: string; step: number; reason: string } | null;
}

export function toApprovalView(approval: ApprovalState | null): ApprovalView | null {
  if (!approval) return null;
  return {
    status: approval.status,
    currentStep: approval.status === 'APPROVED' ? null : approval.current,
    currentApprovers: approval.asked,
    steps: approval.steps.map((step, i) => ({
      approvers: 'approvers' in step ? step.approvers : null,
      role: 'role' in step ? step.role : null,
      approvedBy: approval.approvals[i]?.by ?? null,
      approvedAt: approval.approvals[i]?.at ?? null,
    })),
    sentBack: approval.sentBack,
  };
}

export interface CommentView {
  id: number;
  issueId: number;
  content: string;
  creatorId: number;
  createdAt: string;
  updatedAt: string;
}

export function toIssueView(state: IssueState, version: number): IssueView {
  return {
    id: state.id,
    projectId: state.projectId,
    name: state.name,
    type: state.type,
    status: state.status,
    description: state.description,
    assigneeId: state.assigneeId,
    creatorId: state.creatorId,
    version,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    pipeline: {
      stages: state.stages.map((stage) => ({
        id: stage.id,
        name: stage.name,
        status: stageStatus(stage.tasks),
        tasks: stage.tasks.map((t) => ({ id: t.id, name: t.name, status: t.status, skipped: t.skipped, skippedReason: t.skippedReason })),
      })),
    },
    approval: toApprovalView(state.approval),
  };
}

export interface CommentRow {
  id: number;
  issue_id: number;
  creator_id: number;
  content: string;
  created_at: string;
  updated_at: string;
}

export const toCommentView = (r: CommentRow): CommentView => ({
  id: r.id,
  issueId: r.issue_id,
  content: r.content,
  creatorId: r.creator_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const UPSERT_ISSUE = `INSERT INTO rm_issues (id, project_id, status, version, doc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, version = excluded.version, doc = excluded.doc, updated_at = excluded.updated_at`;
/** rm_comments: one row per comment, appended and edited by its events. */
function commentRows(event: RecordedEvent<IssueEvent>): SqlWrite[] {
  if (event.type === CommentCreated) {
    const d = event.data as CommentCreatedV1['data'];
    return [
      {
        sql: `INSERT INTO rm_comments (id, issue_id, creator_id, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
        params: [d.commentId, d.issueId, event.metadata.actorId, d.content, event.occurredAt, event.occurredAt],
      },
    ];
  }
  if (event.type === CommentEdited) {
    const d = event.data as CommentEditedV1['data'];
    return [{ sql: `UPDATE rm_comments SET content = ?, updated_at = ? WHERE id = ?`, params: [d.content, event.occurredAt, d.commentId] }];
  }
  return [];
}

/** rm_issues: one row per issue, its view as JSON, mirroring the issue's state. */
function issueRow(state: IssueState, version: number): SqlWrite[] {
  const view = toIssueView(state, version);
  return [{ sql: UPSERT_ISSUE, params: [state.id, state.projectId, state.status, version, JSON.stringify(view), state.createdAt, state.updatedAt] }];
}

function allocatedIds(event: IssueEvent): [string, number][] {
  if (event.type === CommentCreated) return [['comment', event.data.commentId]];
  if (event.type !== IssueCreated) return [];
  const { stages } = event.data.pipeline;
  return [
    ['issue', event.data.issueId],
    ...stages.map((s): [string, number] => ['stage', s.id]),
    ...stages.flatMap((s) => s.tasks.map((t): [string, number] => ['task', t.id])),
  ];
}

export const issuesReadModel: Projection<IssueState, IssueEvent> = { table: 'rm_issues', fromState: issueRow };
export const commentsReadModel: Projection<IssueState, IssueEvent> = { table: 'rm_comments', fromEvent: commentRows };

/** The AggregateStore of issue streams (provided by EventStoreModule from src/domain.ts). */
export const ISSUES = Symbol('ISSUES');

export const issueAggregate: AggregateDefinition<IssueState, IssueEvent> = {
  kind: 'issue',
  initialState: initialIssueState,
  evolve: evolveIssue,
  projections: [issuesReadModel, commentsReadModel],
  allocatedIds,
  schemas: ISSUE_EVENT_SCHEMAS,
};
