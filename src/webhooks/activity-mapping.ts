import type { Evolving } from '../event-store/event.js';
import type { IssueState } from '../issues/issue.state.js';
import type { IssueEvent, TaskStatus } from '../issues/issue.events.js';
import { issueSlug } from '../issues/issue.rules.js';
import type { Activity, ActivityLevel, ActivityType, Mention, MetaLine, Person } from './activity.js';

export interface MappingContext {
  brand: string;
  externalUrl: string;
  project: { id: number; name: string };
  /** Resolves a user id to a person (the System Bot included). */
  person(id: number | null): Person;
  /** Resolves a user id to a person with the handles a message can mention them by. */
  mention(id: number): Mention;
  bot: Person;
}

const DESCRIPTION_META_LIMIT = 450;
/** At most this many people are mentioned in one message (a role step may have many members). */
export const MAX_MENTIONS = 20;

/**
 * The one mapping from a domain event to the activity a webhook reports, per the
 * table in domain-and-activities.md. `after` is the issue right after the event (its
 * names and statuses as they were then, so a replay maps identically); `before` right
 * before it. Returns null for events that no webhook hears of (a comment edit, say).
 */
export function toActivity(event: Evolving<IssueEvent>, before: IssueState, after: IssueState, ctx: MappingContext): Activity | null {
  const link = `${ctx.externalUrl}/issue/${issueSlug(after.name, after.id)}`;
  const actor = ctx.person(event.metadata.actorId);
  const base = (type: ActivityType, level: ActivityLevel, title: string, description = '', extra: MetaLine[] = [], who = actor, href = link): Activity => ({
    type,
    level,
    title,
    description,
    link: href,
    actor: who,
    createdTs: Math.floor(Date.parse(event.occurredAt) / 1000),
    project: ctx.project,
    issue: {
      id: after.id,
      name: after.name,
      status: after.status,
      type: after.type,
      description: after.description,
      creator: ctx.person(after.creatorId),
    },
    meta: [...issueMeta(after, ctx), ...extra],
  });

  switch (event.type) {
    case 'issue.created':
      return base('bb.issue.create', 'INFO', `Issue created - ${after.name}`);
    case 'issue.status-changed': {
      const d = event.data;
      const [level, verb]: [ActivityLevel, string] = d.to === 'DONE' ? ['SUCCESS', 'resolved'] : d.to === 'CANCELED' ? ['WARN', 'canceled'] : ['INFO', 'reopened'];
      return base('bb.issue.status.update', level, `Issue ${verb} - ${after.name}`, d.comment ?? '');
    }
    case 'issue.comment-created':
      return base('bb.issue.comment.create', 'INFO', `Comment created - ${after.name}`, event.data.content, [], actor, `${link}#activity${event.data.commentId}`);
    case 'issue.field-updated': {
      const d = event.data;
      // a change that changes nothing (a null name of schema version 1, upcast) is no news
      if (d.from === d.to) return null;
      if (d.field === 'name') return base('bb.issue.field.update', 'INFO', `Changed issue name - ${after.name}`, `Renamed from "${String(d.from)}"`);
      if (d.field === 'description') return base('bb.issue.field.update', 'INFO', `Changed issue description - ${after.name}`, String(d.to ?? ''));
      const from = d.from === null ? null : ctx.person(Number(d.from)).name;
      const to = d.to === null ? null : ctx.person(Number(d.to)).name;
      const title =
        from === null ? `Assigned issue to ${to} - ${after.name}` : to === null ? `Unassigned issue from ${from} - ${after.name}` : `Reassigned issue from ${from} to ${to} - ${after.name}`;
      return base('bb.issue.field.update', 'INFO', title);
    }
    case 'issue.stage-status-changed': {
      const d = event.data;
      const stage = after.stages.find((s) => s.id === d.stageId);
      const name = stage?.name ?? `stage ${d.stageId}`;
      const tasks = stage?.tasks ?? [];
      const level: ActivityLevel =
        d.change === 'BEGIN' ? 'INFO' : tasks.every((t) => t.status === 'DONE') ? 'SUCCESS' : tasks.some((t) => t.status === 'FAILED') ? 'ERROR' : 'WARN';
      const title = d.change === 'BEGIN' ? `Stage begins - ${name}` : `Stage ends - ${name}`;
      return base('bb.pipeline.stage.status.update', level, title, '', [{ name: 'Stage', value: name }, { name: 'Status', value: d.status }], ctx.bot, `${link}?stage=${d.stageId}`);
    }
    case 'issue.task-status-changed': {
      const d = event.data;
      const task = after.stages.flatMap((s) => s.tasks).find((t) => t.id === d.taskId);
      const name = task?.name ?? `task ${d.taskId}`;
      const [level, title] = taskTitle(d.from, d.to, d.skipped === true);
      const status = d.to === 'DONE' && d.skipped ? 'SKIPPED' : d.to;
      const extra: MetaLine[] = [{ name: 'Task', value: name }, { name: 'Status', value: status }];
      // the failure's detail is the comment: cut like every meta value, and shown once in chat
      const detail = d.to === 'FAILED' && d.comment ? d.comment : '';
      if (detail) extra.push({ name: 'Result Detail', value: cutDescription(detail, ctx.brand) });
      if (d.skipped && d.skippedReason) extra.push({ name: 'Skipped Reason', value: cutDescription(d.skippedReason, ctx.brand) });
      const activity = base('bb.pipeline.task.status.update', level, `${title} - ${name}`, d.comment ?? '', extra);
      return detail ? { ...activity, descriptionInMeta: true } : activity;
    }
    case 'issue.approval-requested': {
      // who asks is the issue's creator, as in Bytebase, whoever's decision started the step
      const d = event.data;
      const extra = [
        { name: 'Approval Step', value: `${d.step + 1} of ${after.approval?.steps.length ?? d.step + 1}` },
        { name: 'Approvers', value: d.approvers.map((id) => ctx.person(id).name).join(', ') },
      ];
      const creator = ctx.person(after.creatorId);
      return { ...base('bb.issue.approval.requested', 'WARN', 'Approval required', '', extra, creator), mentions: d.approvers.slice(0, MAX_MENTIONS).map((id) => ctx.mention(id)) };
    }
    case 'issue.approval-step-approved':
      // a step before the last: the next step's request is the news
      if (after.approval?.status !== 'APPROVED') return null;
      return { ...base('bb.issue.approved', 'SUCCESS', 'Issue approved', `${actor.name} approved the issue`), mentions: [ctx.mention(after.creatorId)] };
    case 'issue.approval-sent-back':
      return { ...base('bb.issue.sent-back', 'WARN', 'Issue sent back', `${actor.name} sent back the issue: ${event.data.reason}`), mentions: [ctx.mention(after.creatorId)] };
    case 'issue.rollout-failed': {
      const d = event.data;
      const stage = after.stages.find((s) => s.id === d.stageId);
      const task = stage?.tasks.find((t) => t.id === d.taskId);
      const extra = [
        { name: 'Environment', value: stage?.name ?? `stage ${d.stageId}` },
        { name: 'Task', value: task?.name ?? `task ${d.taskId}` },
      ];
      return base('bb.pipeline.failed', 'ERROR', 'Rollout failed', 'Rollout failed', extra, ctx.bot, `${link}?stage=${d.stageId}`);
    }
    case 'issue.rollout-completed': {
      const last = after.stages.at(-1);
      return base('bb.pipeline.completed', 'SUCCESS', 'Rollout completed', 'Rollout completed successfully', last ? [{ name: 'Environment', value: last.name }] : [], ctx.bot);
    }
    default:
      return null;
  }
}

function taskTitle(from: TaskStatus, to: TaskStatus, skipped: boolean): [ActivityLevel, string] {
  if (from === 'PENDING_APPROVAL' && to === 'PENDING') return ['INFO', 'Task approved'];
  switch (to) {
    case 'RUNNING':
      return ['INFO', 'Task started'];
    case 'DONE':
      return ['SUCCESS', skipped ? 'Task skipped' : 'Task completed'];
    case 'FAILED':
      return ['ERROR', 'Task failed'];
    case 'CANCELED':
      return ['WARN', 'Task canceled'];
    default:
      return ['INFO', 'Task changed'];
  }
}

function issueMeta(issue: IssueState, ctx: MappingContext): MetaLine[] {
  const creator = ctx.person(issue.creatorId);
  const lines: MetaLine[] = [
    { name: 'Project Title', value: ctx.project.name },
    { name: 'Project ID', value: String(ctx.project.id) },
    { name: 'Issue', value: issue.name },
    { name: 'Issue Creator', value: `${creator.name} (${creator.email})` },
  ];
  if (issue.description) lines.push({ name: 'Issue Description', value: cutDescription(issue.description, ctx.brand) });
  return lines;
}

/** Cut to 450 characters (never inside a character), then point to the full text. */
export function cutDescription(text: string, brand: string): string {
  const chars = Array.from(text);
  if (chars.length <= DESCRIPTION_META_LIMIT) return text;
  return `${chars.slice(0, DESCRIPTION_META_LIMIT).join('')}... (view details in ${brand})`;
}

/** The message a webhook test sends. */
export function testActivity(webhookName: string, project: { id: number; name: string }, ctx: { brand: string; externalUrl: string; bot: Person; now: Date }): Activity {
  return {
    type: 'bb.issue.create',
    level: 'INFO',
    title: `Test webhook "${webhookName}"`,
    description: 'This is a test',
    link: `${ctx.externalUrl}/project/${issueSlug(project.name, project.id)}`,
    actor: ctx.bot,
    createdTs: Math.floor(ctx.now.getTime() / 1000),
    project,
    issue: null,
    meta: [
      { name: 'Project Title', value: project.name },
      { name: 'Project ID', value: String(project.id) },
    ],
  };
}

/**
 * The activity type each issue event reports (toActivity's cases). When mapping one
 * fails, the webhooks subscribed to its type are told with a FAILED delivery.
 */
export const ACTIVITY_TYPE_OF_EVENT: Readonly<Record<string, ActivityType>> = {
  'issue.created': 'bb.issue.create',
  'issue.status-changed': 'bb.issue.status.update',
  'issue.comment-created': 'bb.issue.comment.create',
  'issue.field-updated': 'bb.issue.field.update',
  'issue.stage-status-changed': 'bb.pipeline.stage.status.update',
  'issue.task-status-changed': 'bb.pipeline.task.status.update',
  'issue.approval-requested': 'bb.issue.approval.requested',
  // only the last step's approval is an activity; an event whose mapping failed cannot say which it was
  'issue.approval-step-approved': 'bb.issue.approved',
  'issue.approval-sent-back': 'bb.issue.sent-back',
  'issue.rollout-failed': 'bb.pipeline.failed',
  'issue.rollout-completed': 'bb.pipeline.completed',
};
