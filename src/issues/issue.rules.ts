import type { StageStatus, TaskStatus } from './issue.events.js';
import { slugOf } from '../shared/slug.js';

/** The allowed task transitions; everything else is refused. `skip` marks moves to DONE that must be skips. */
export const TASK_TRANSITIONS: Record<TaskStatus, Partial<Record<TaskStatus, 'move' | 'skip' | 'either'>>> = {
  PENDING_APPROVAL: { PENDING: 'move', DONE: 'skip' },
  PENDING: { RUNNING: 'move', CANCELED: 'move', PENDING_APPROVAL: 'move', DONE: 'either' },
  RUNNING: { DONE: 'move', FAILED: 'move', CANCELED: 'move' },
  FAILED: { PENDING_APPROVAL: 'move', DONE: 'skip' },
  CANCELED: { PENDING_APPROVAL: 'move', DONE: 'skip' },
  DONE: {},
};

export const TERMINAL: ReadonlySet<TaskStatus> = new Set<TaskStatus>(['DONE', 'FAILED', 'CANCELED']);

export const isTerminal = (status: TaskStatus) => TERMINAL.has(status);

/** Stage status is derived from its tasks, never set. */
export function stageStatus(tasks: readonly { status: TaskStatus }[]): StageStatus {
  if (tasks.length > 0 && tasks.every((t) => t.status === 'DONE')) return 'DONE';
  if (tasks.length > 0 && tasks.every((t) => isTerminal(t.status))) {
    return tasks.some((t) => t.status === 'FAILED') ? 'FAILED' : 'CANCELED';
  }
  if (tasks.some((t) => t.status === 'RUNNING' || isTerminal(t.status))) return 'RUNNING';
  return tasks.some((t) => t.status === 'PENDING_APPROVAL') || tasks.length === 0 ? 'PENDING_APPROVAL' : 'PENDING';
}

export const allTerminal = (tasks: readonly { status: TaskStatus }[]) => tasks.every((t) => isTerminal(t.status));
export const allDone = (tasks: readonly { status: TaskStatus }[]) => tasks.every((t) => t.status === 'DONE');

/** The issue link's slug: the name's transliterating slug (as Bytebase's), then '-{id}'; the id alone when the name has no letter or digit. */
export function issueSlug(name: string, id: number): string {
  const base = slugOf(name);
  return base ? `${base}-${id}` : `${id}`;
}
