import type { Evolving } from '../event-store/event.js';
import { conflict, forbidden } from '../shared/errors.js';
import {
  ApprovalRequested,
  ApprovalRequired,
  ApprovalSentBack,
  ApprovalStepApproved,
  type ApprovalStatus,
  type ApprovalStep,
  type IssueEvent,
} from './issue.events.js';

/*
 * An issue's approval: its steps are decided one after another; any one approver of the current
 * step approves it, the next step then starts; after the last the issue is APPROVED. An approver
 * may instead send the issue back to its creator, who requests approval again: it starts over at
 * the first step. Pure rules, used by the issue decider.
 */

export interface StepApproval {
  by: number;
  at: string;
}

export interface ApprovalState {
  steps: ApprovalStep[];
  /** Who approved each step in the current round, and when (null: not yet). */
  approvals: (StepApproval | null)[];
  /** The step waiting for a decision (steps.length once APPROVED). */
  current: number;
  status: ApprovalStatus;
  /** The users asked to approve the current step, as they were when it started. */
  asked: number[];
  /** The last send-back of this round, if the round ended with one. */
  sentBack: { by: number; at: string; step: number; reason: string } | null;
}

export type ApprovalCommand = { kind: 'Approve' } | { kind: 'SendBack'; reason: string } | { kind: 'RequestApproval' };

/** What approval decisions need beyond the issue: who acts, and who the project's owners are now (for role steps). */
export interface ApprovalContext {
  actorId: number;
  projectOwners: readonly number[];
}

interface Issue {
  id: number;
  projectId: number;
  creatorId: number;
  approval: ApprovalState | null;
}

/** The users who may approve a step now: its listed approvers, or the members holding its role. */
export function approversOf(step: ApprovalStep, projectOwners: readonly number[]): number[] {
  return 'approvers' in step ? [...step.approvers] : [...projectOwners].sort((a, b) => a - b);
}

const describeStep = (step: ApprovalStep) => ('approvers' in step ? `users ${step.approvers.join(', ')}` : `the project's ${step.role}s`);
const stepLabel = (a: ApprovalState, index = a.current) => `step ${index + 1} of ${a.steps.length}`;

/** The events that put a new issue under approval: the requirement, and its first step asked. */
export function requireApproval(issue: Pick<Issue, 'id' | 'projectId'>, steps: ApprovalStep[], ctx: ApprovalContext): IssueEvent[] {
  if (steps.length === 0) return [];
  const base = { issueId: issue.id, projectId: issue.projectId };
  return [
    { type: ApprovalRequired, schemaVersion: 1, data: { ...base, steps } },
    { type: ApprovalRequested, schemaVersion: 1, data: { ...base, step: 0, approvers: approversOf(steps[0], ctx.projectOwners) } },
  ];
}

export function decideApproval(command: ApprovalCommand, issue: Issue, ctx: ApprovalContext): IssueEvent[] {
  const a = issue.approval;
  if (!a) throw conflict(`issue ${issue.id} requires no approval`);
  if (a.status === 'APPROVED') throw conflict(`the approval of issue ${issue.id} is complete: it takes no further decisions`);
  const base = { issueId: issue.id, projectId: issue.projectId };
  switch (command.kind) {
    case 'Approve':
    case 'SendBack': {
      const step = a.steps[a.current];
      const approvers = approversOf(step, ctx.projectOwners);
      if (!approvers.includes(ctx.actorId)) {
        const verb = command.kind === 'Approve' ? 'approve' : 'send back';
        throw forbidden(`only an approver of ${stepLabel(a)} (${describeStep(step)}) may ${verb} issue ${issue.id}`);
      }
      if (a.status === 'SENT_BACK') throw conflict(`issue ${issue.id} was sent back to its creator: approval must be requested again first`);
      if (command.kind === 'SendBack') return [{ type: ApprovalSentBack, schemaVersion: 1, data: { ...base, step: a.current, reason: command.reason } }];
      const approved: IssueEvent = { type: ApprovalStepApproved, schemaVersion: 1, data: { ...base, step: a.current } };
      const next = a.current + 1;
      if (next === a.steps.length) return [approved];
      return [approved, { type: ApprovalRequested, schemaVersion: 1, data: { ...base, step: next, approvers: approversOf(a.steps[next], ctx.projectOwners) } }];
    }
    case 'RequestApproval':
      if (ctx.actorId !== issue.creatorId) throw forbidden(`only the issue's creator (user ${issue.creatorId}) may request approval of issue ${issue.id} again`);
      if (a.status !== 'SENT_BACK') throw conflict(`approval of issue ${issue.id} can be requested again only after a send-back: it is PENDING at ${stepLabel(a)}`);
      return [{ type: ApprovalRequested, schemaVersion: 1, data: { ...base, step: 0, approvers: approversOf(a.steps[0], ctx.projectOwners) } }];
  }
}

export function evolveApproval(approval: ApprovalState | null, event: Evolving<IssueEvent>): ApprovalState | null {
  switch (event.type) {
    case ApprovalRequired:
      return { steps: event.data.steps, approvals: event.data.steps.map(() => null), current: 0, status: 'PENDING', asked: [], sentBack: null };
    case ApprovalRequested: {
      if (!approval) return approval;
      const { step, approvers } = event.data;
      // the first step starts a new round: earlier approvals and the send-back are history (in the log)
      const fresh = step === 0;
      return {
        ...approval,
        approvals: fresh ? approval.steps.map(() => null) : approval.approvals,
        sentBack: fresh ? null : approval.sentBack,
        current: step,
        status: 'PENDING',
        asked: approvers,
      };
    }
    case ApprovalStepApproved: {
      if (!approval) return approval;
      const approvals = approval.approvals.map((x, i) => (i === event.data.step ? { by: event.metadata.actorId, at: event.occurredAt } : x));
      const done = approvals.every((x) => x !== null);
      return { ...approval, approvals, current: done ? approval.steps.length : event.data.step + 1, status: done ? 'APPROVED' : 'PENDING', asked: done ? [] : approval.asked };
    }
    case ApprovalSentBack:
      if (!approval) return approval;
      return {
        ...approval,
        status: 'SENT_BACK',
        asked: [],
        sentBack: { by: event.metadata.actorId, at: event.occurredAt, step: event.data.step, reason: event.data.reason },
      };
    default:
      return approval;
  }
}

/** Why the issue's tasks are held, or undefined when its approval (if any) is complete. */
export function approvalHold(approval: ApprovalState | null): string | undefined {
  if (!approval || approval.status === 'APPROVED') return undefined;
  if (approval.status === 'SENT_BACK') return `the issue was sent back at ${stepLabel(approval, approval.sentBack?.step ?? approval.current)} and its approval must be requested again`;
  return `the issue's approval is PENDING at ${stepLabel(approval)}`;
}
