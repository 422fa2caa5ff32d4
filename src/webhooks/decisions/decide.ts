import type { RecordedEvent } from '../../event-store/event.js';
import type { IssueState } from '../../issues/issue.state.js';
import { stageStatus } from '../../issues/issue.rules.js';
import type { Activity } from '../activity.js';
import type { WebhookConfig } from '../config/webhook.decider.js';
import { evaluateFilter, filterSubject, type FilterSubject, type PipelinePart } from '../filters/filter.js';

/**
 * Whether one activity goes to one webhook, and if not, why: the one rule the live
 * scheduler applies, replays apply, and the decisions route explains (so what a user is
 * told can never drift from what was done).
 */
export type DeliveryDecision =
  | { kind: 'scheduled' }
  | { kind: 'not-subscribed'; activityType: string }
  | { kind: 'filtered'; filter: string; error?: string }
  | { kind: 'webhook-disabled' }
  | { kind: 'webhook-created-later' }
  | { kind: 'webhook-deleted' };

/** A webhook as of an event: its configuration then, or why it had none. */
export type WebhookAtEvent = WebhookConfig | 'not-created-yet' | 'deleted';

/**
 * The decision for an activity and a webhook's configuration as it was at the event.
 * Order matters for the explanation: a webhook that did not exist, then one switched
 * off, then the activity types, then the filter.
 */
export function decide(activity: Activity, hook: WebhookAtEvent, pipeline: { stage?: PipelinePart; task?: PipelinePart } = {}): DeliveryDecision {
  if (hook === 'not-created-yet') return { kind: 'webhook-created-later' };
  if (hook === 'deleted') return { kind: 'webhook-deleted' };
  if (!hook.active) return { kind: 'webhook-disabled' };
  if (!hook.activityTypes.includes(activity.type)) return { kind: 'not-subscribed', activityType: activity.type };
  if (hook.filter) {
    const { matched, error } = evaluateFilter(hook.filter, subjectOf(activity, pipeline));
    if (!matched) return error ? { kind: 'filtered', filter: hook.filter, error } : { kind: 'filtered', filter: hook.filter };
  }
  return { kind: 'scheduled' };
}

/** One activity is decided for every webhook: its filter subject is built once. */
const subjects = new WeakMap<Activity, FilterSubject>();
function subjectOf(activity: Activity, pipeline: { stage?: PipelinePart; task?: PipelinePart }): FilterSubject {
  let subject = subjects.get(activity);
  if (!subject) subjects.set(activity, (subject = filterSubject(activity, pipeline)));
  return subject;
}

/** The stage and task an issue event is about (the state right after it), for filters. */
export function pipelineOf(event: Pick<RecordedEvent, 'data'>, after: IssueState): { stage?: PipelinePart; task?: PipelinePart } {
  const data = event.data as { stageId?: number; taskId?: number };
  const stage =
    data.stageId !== undefined
      ? after.stages.find((s) => s.id === data.stageId)
      : data.taskId !== undefined
        ? after.stages.find((s) => s.tasks.some((t) => t.id === data.taskId))
        : undefined;
  const task = data.taskId !== undefined ? stage?.tasks.find((t) => t.id === data.taskId) : undefined;
  return {
    ...(stage ? { stage: { id: stage.id, name: stage.name, status: stageStatus(stage.tasks) } } : {}),
    ...(task ? { task: { id: task.id, name: task.name, status: task.skipped ? 'SKIPPED' : task.status } } : {}),
  };
}
