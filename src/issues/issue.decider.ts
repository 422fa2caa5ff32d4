import type { Decider, DeciderContext } from '../event-store/decider.js';
import type { Evolving } from '../event-store/event.js';
import { conflict, forbidden, invalid, notFound, raise } from '../shared/errors.js';
import { approvalHold, decideApproval, requireApproval, type ApprovalCommand } from './issue.approval.js';
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
  type IssueField,
  type IssueStatus,
  type IssueType,
  type ApprovalStep,
  type PipelineSpec,
  type StageStatusChangedV1,
  type TaskStatus,
  type TaskStatusChangedV1,
} from './issue.events.js';
import { allDone, allTerminal, stageStatus, TASK_TRANSITIONS } from './issue.rules.js';
import { evolveIssue, findComment, initialIssueState, type IssueState, type StageState } from './issue.state.js';


export type IssueCommand =
  | {
      kind: 'CreateIssue';
      issueId: number;
      projectId: number;
      name: string;
      type: IssueType;
      description: string;
      assigneeId: number | null;
      pipeline: PipelineSpec;
      /** The steps to approve before any task may leave PENDING_APPROVAL; none or empty: no approval. */
      approvalSteps?: ApprovalStep[];
    }
  | { kind: 'ChangeIssueStatus'; to: IssueStatus; comment?: string }
  | { kind: 'UpdateIssueFields'; name?: string; description?: string; assigneeId?: number | null }
  | { kind: 'ChangeTaskStatus'; taskId: number; to: TaskStatus; comment?: string; skipped?: boolean; skippedReason?: string }
  | { kind: 'CreateComment'; commentId: number; content: string }
  | { kind: 'EditComment'; commentId: number; content: string; currentContent?: string }
  | ApprovalCommand;

export interface IssueDecisionContext extends DeciderContext {
  /** The project's owners now: the approvers of `{role: "OWNER"}` steps. */
  projectOwners?: readonly number[];
}

// ---------------------------------------------------------------- evolve


export function decideIssue(command: IssueCommand, state: IssueState, ctx: IssueDecisionContext): IssueEvent[] {
  if (command.kind === 'CreateIssue') return createIssue(command, state, ctx);
  if (!state.exists) throw notFound('issue', state.id || '?');
  const base = { issueId: state.id, projectId: state.projectId };
  switch (command.kind) {
    case 'ChangeIssueStatus':
      return changeIssueStatus(command, state, ctx);
    case 'UpdateIssueFields': {
      mustBeOpen(state, 'its fields');
      const events: IssueEvent[] = [];
      const fields: IssueField[] = ['name', 'description', 'assigneeId'];
      for (const field of fields) {
        const to = command[field];
        if (to === undefined || to === state[field]) continue;
        events.push({ type: IssueFieldUpdated, schemaVersion: 2, data: { ...base, field, from: state[field], to } });
      }
      return events;
    }
    case 'ChangeTaskStatus':
      return changeTaskStatus(command, state, ctx);
    case 'CreateComment':
      return [{ type: CommentCreated, schemaVersion: 1, data: { ...base, commentId: command.commentId, content: command.content } }];
    case 'EditComment': {
      const comment = findComment(state, command.commentId) ?? raise(notFound('comment', command.commentId));
      if (comment.creatorId !== ctx.actorId) throw forbidden(`only the author (user ${comment.creatorId}) may edit comment ${comment.id}`);
      if (command.currentContent === command.content) return [];
      return [{ type: CommentEdited, schemaVersion: 1, data: { ...base, commentId: comment.id, content: command.content } }];
    }
    case 'Approve':
    case 'SendBack':
    case 'RequestApproval':
      mustBeOpen(state, 'its approval');
      return decideApproval(command, state, approvalContext(ctx));
  }
}

const approvalContext = (ctx: IssueDecisionContext) => ({ actorId: ctx.actorId, projectOwners: ctx.projectOwners ?? [] });

function createIssue(command: Extract<IssueCommand, { kind: 'CreateIssue' }>, state: IssueState, ctx: IssueDecisionContext): IssueEvent[] {
  if (state.exists) throw conflict(`issue ${state.id} already exists`);
  const created: IssueEvent = {
    type: IssueCreated,
    schemaVersion: 1,
    data: {
      issueId: command.issueId,
      projectId: command.projectId,
      name: command.name,
      type: command.type,
      description: command.description,
      assigneeId: command.assigneeId,
      creatorId: ctx.actorId,
      pipeline: command.pipeline,
    },
  };
  const approval = requireApproval({ id: command.issueId, projectId: command.projectId }, command.approvalSteps ?? [], approvalContext(ctx));
  const first = command.pipeline.stages[0];
  if (!first) return [created, ...approval];
  const after = evolveIssue(state, at(created, ctx));
  return [created, ...approval, stageEvent(after, after.stages[0], 'BEGIN')];
}

function changeIssueStatus(command: Extract<IssueCommand, { kind: 'ChangeIssueStatus' }>, state: IssueState, ctx: IssueDecisionContext): IssueEvent[] {
  if (command.to === state.status) throw conflict(`issue ${state.id} is already ${state.status}`);
  const base = { issueId: state.id, projectId: state.projectId };
  const statusChanged: IssueEvent = {
    type: IssueStatusChanged,
    schemaVersion: 1,
    data: { ...base, from: state.status, to: command.to, ...(command.comment ? { comment: command.comment } : {}) },
  };
  if (command.to === 'DONE') {
    const hold = approvalHold(state.approval);
    if (hold) throw conflict(`issue ${state.id} cannot be resolved before its approval is complete: ${hold}`);
    const unfinished = state.stages.flatMap((s) => s.tasks).filter((t) => t.status !== 'DONE');
    if (unfinished.length > 0) {
      throw conflict(
        `issue ${state.id} cannot be resolved while tasks are unfinished: ${unfinished.map((t) => `${t.name} (${t.status})`).join(', ')}`,
      );
    }
    return [statusChanged];
  }
  if (command.to === 'CANCELED') {
    // every running task is canceled by the same command, with the stage ENDs that follow
    const events: IssueEvent[] = [];
    let current = state;
    for (const stage of state.stages) {
      for (const task of stage.tasks) {
        if (task.status !== 'RUNNING') continue;
        const { events: moved, state: next } = applyTaskChange(current, stage.id, task.id, { to: 'CANCELED' }, ctx);
        events.push(...moved);
        current = next;
      }
    }
    return [...events, statusChanged];
  }
  return [statusChanged];
}

function changeTaskStatus(command: Extract<IssueCommand, { kind: 'ChangeTaskStatus' }>, state: IssueState, ctx: IssueDecisionContext): IssueEvent[] {
  mustBeOpen(state, 'its tasks');
  const stageIndex = state.stages.findIndex((s) => s.tasks.some((t) => t.id === command.taskId));
  if (stageIndex < 0) throw notFound('task', command.taskId);
  const stage = state.stages[stageIndex];
  const task = stage.tasks.find((t) => t.id === command.taskId)!;
  const label = `task ${task.id} "${task.name}"`;
  const rule = TASK_TRANSITIONS[task.status][command.to];
  if (!rule) throw conflict(`${label} cannot go from ${task.status} to ${command.to}`);
  const hold = task.status === 'PENDING_APPROVAL' ? approvalHold(state.approval) : undefined;
  if (hold) throw conflict(`${label} cannot leave PENDING_APPROVAL until the issue is approved: ${hold}`);
  if (command.skipped && command.to !== 'DONE') throw invalid('only a move to DONE can be a skip', [{ field: 'skipped', message: 'skipped requires status DONE' }]);
  if (command.skipped && !command.skippedReason?.trim()) {
    throw invalid('a skip needs a reason', [{ field: 'skippedReason', message: 'skippedReason is required when skipped is true' }]);
  }
  if (rule === 'skip' && !command.skipped) throw conflict(`${label} cannot go from ${task.status} to DONE except as a skip (skipped: true)`);
  if (rule === 'move' && command.skipped) throw conflict(`${label} cannot be skipped from ${task.status}`);
  if (command.to === 'RUNNING') {
    const blocking = state.stages.slice(0, stageIndex).find((s) => !allDone(s.tasks));
    if (blocking) throw conflict(`${label} cannot start: earlier stage "${blocking.name}" is not done`);
  }
  return applyTaskChange(state, stage.id, task.id, command, ctx).events;
}

/** A task change plus the stage END/BEGIN events that follow from the new state. */
function applyTaskChange(
  state: IssueState,
  stageId: number,
  taskId: number,
  change: { to: TaskStatus; comment?: string; skipped?: boolean; skippedReason?: string },
  ctx: IssueDecisionContext,
): { events: IssueEvent[]; state: IssueState } {
  const before = state.stages.find((s) => s.id === stageId)!;
  const task = before.tasks.find((t) => t.id === taskId)!;
  const moved: TaskStatusChangedV1 = {
    type: TaskStatusChanged,
    schemaVersion: 1,
    data: {
      issueId: state.id,
      projectId: state.projectId,
      stageId,
      taskId,
      from: task.status,
      to: change.to,
      ...(change.skipped ? { skipped: true, skippedReason: change.skippedReason } : {}),
      ...(change.comment ? { comment: change.comment } : {}),
    },
  };
  const events: IssueEvent[] = [moved];
  const activeBefore = state.stages.findIndex((s) => !allDone(s.tasks));
  let next = evolveIssue(state, at(moved, ctx));
  const after = next.stages.find((s) => s.id === stageId)!;
  if (!allTerminal(before.tasks) && allTerminal(after.tasks)) {
    const ended = stageEvent(next, after, 'END');
    events.push(ended);
    next = evolveIssue(next, at(ended, ctx));
  }
  // the active stage finished: the following stages begin, passing over any already all done
  if (activeBefore >= 0 && allDone(next.stages[activeBefore].tasks)) {
    for (let k = activeBefore + 1; k < next.stages.length; k++) {
      const stage = next.stages[k];
      if (!stage.begun) {
        const begins = stageEvent(next, stage, 'BEGIN');
        events.push(begins);
        next = evolveIssue(next, at(begins, ctx));
      }
      if (!allDone(next.stages[k].tasks)) break;
    }
  }
  for (const rollout of rolloutEvents(next, moved.data)) {
    events.push(rollout);
    next = evolveIssue(next, at(rollout, ctx));
  }
  return { events, state: next };
}

/** The rollout news a task change makes: the first failure (until one is retried or skipped), and completion. */
function rolloutEvents(state: IssueState, moved: TaskStatusChangedV1['data']): IssueEvent[] {
  const base = { issueId: state.id, projectId: state.projectId };
  if (moved.to === 'FAILED' && !state.rollout.failureAnnounced) {
    return [{ type: RolloutFailed, schemaVersion: 1, data: { ...base, stageId: moved.stageId, taskId: moved.taskId } }];
  }
  const tasks = state.stages.flatMap((s) => s.tasks);
  if (moved.to === 'DONE' && !state.rollout.completed && tasks.length > 0 && allDone(tasks)) {
    return [{ type: RolloutCompleted, schemaVersion: 1, data: base }];
  }
  return [];
}

function stageEvent(state: IssueState, stage: StageState, change: 'BEGIN' | 'END'): StageStatusChangedV1 {
  return {
    type: StageStatusChanged,
    schemaVersion: 1,
    data: { issueId: state.id, projectId: state.projectId, stageId: stage.id, change, status: stageStatus(stage.tasks) },
  };
}

function mustBeOpen(state: IssueState, what: string): void {
  if (state.status !== 'OPEN') throw conflict(`issue ${state.id} is ${state.status}: ${what} cannot change until it is reopened`);
}

function at<E extends IssueEvent>(event: E, ctx: IssueDecisionContext): Evolving<E> {
  return { ...event, occurredAt: ctx.now.toISOString(), metadata: { actorId: ctx.actorId } };
}

export const issueDecider: Decider<IssueCommand, IssueEvent, IssueState, IssueDecisionContext> = {
  initialState: initialIssueState,
  evolve: evolveIssue,
  decide: decideIssue,
};
