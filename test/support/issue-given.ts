import { issueDecider, type IssueCommand, type IssueDecisionContext } from '../../src/issues/issue.decider.js';
import type { IssueState } from '../../src/issues/issue.state.js';
import type { ApprovalStep, IssueEvent, TaskStatus } from '../../src/issues/issue.events.js';
import { ACTOR, by, NOW, specification } from './given.js';

export { ACTOR, by, NOW };

const issues = specification(issueDecider, {});

export function fold(events: IssueEvent[]): IssueState {
  return issues(...events).state();
}

/** given(events).when(command).then(events) — the decider's contract, read as the rule it checks. */
export function given(...history: IssueEvent[]) {
  return {
    when: (command: IssueCommand, actorId = ACTOR, context: Partial<IssueDecisionContext> = {}) => issues(...history).when(command, { actorId, ...context }),
  };
}

// ------------------------------------------------------------- fixtures

const base = { issueId: 7, projectId: 3 };

/** An issue whose pipeline is given as stage name → task names; stage ids 10, 11, …; task ids 100, 101, …. */
export function issueCreated(stages: Record<string, string[]> = {}): IssueEvent {
  let taskId = 100;
  return {
    type: 'issue.created',
    schemaVersion: 1,
    data: {
      ...base,
      name: 'Add index',
      type: 'bb.issue.database.schema.update',
      description: 'CREATE INDEX',
      assigneeId: null,
      creatorId: ACTOR,
      pipeline: {
        stages: Object.entries(stages).map(([name, tasks], i) => ({ id: 10 + i, name, tasks: tasks.map((t) => ({ id: taskId++, name: t })) })),
      },
    },
  };
}

export function taskChanged(stageId: number, taskId: number, from: TaskStatus, to: TaskStatus, extra: { skipped?: boolean; skippedReason?: string; comment?: string } = {}): IssueEvent {
  return { type: 'issue.task-status-changed', schemaVersion: 1, data: { ...base, stageId, taskId, from, to, ...extra } };
}

export function stage(stageId: number, change: 'BEGIN' | 'END', status: string): IssueEvent {
  return { type: 'issue.stage-status-changed', schemaVersion: 1, data: { ...base, stageId, change, status: status as never } };
}

export function issueStatus(from: string, to: string, comment?: string): IssueEvent {
  return { type: 'issue.status-changed', schemaVersion: 1, data: { ...base, from: from as never, to: to as never, ...(comment ? { comment } : {}) } };
}

export function approvalRequired(...steps: ApprovalStep[]): IssueEvent {
  return { type: 'issue.approval-required', schemaVersion: 1, data: { ...base, steps } };
}

export function approvalRequested(step: number, approvers: number[]): IssueEvent {
  return { type: 'issue.approval-requested', schemaVersion: 1, data: { ...base, step, approvers } };
}

export function stepApproved(step: number): IssueEvent {
  return { type: 'issue.approval-step-approved', schemaVersion: 1, data: { ...base, step } };
}

export function sentBack(step: number, reason: string): IssueEvent {
  return { type: 'issue.approval-sent-back', schemaVersion: 1, data: { ...base, step, reason } };
}

export function rolloutFailed(stageId: number, taskId: number): IssueEvent {
  return { type: 'issue.rollout-failed', schemaVersion: 1, data: { ...base, stageId, taskId } };
}

export function rolloutCompleted(): IssueEvent {
  return { type: 'issue.rollout-completed', schemaVersion: 1, data: { ...base } };
}
