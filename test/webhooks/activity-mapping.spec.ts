import { toActivity, cutDescription, testActivity, type MappingContext } from '../../src/webhooks/activity-mapping.js';
import { partsOf } from '../../src/webhooks/providers/text.js';
import type { IssueEvent } from '../../src/issues/issue.events.js';
import {
  approvalRequested,
  approvalRequired,
  by,
  fold,
  issueCreated,
  issueStatus,
  rolloutCompleted,
  rolloutFailed,
  sentBack,
  stage,
  stepApproved,
  taskChanged,
} from '../support/issue-given.js';

const people: Record<number, { name: string; email: string }> = {
  1: { name: 'Bytebase', email: 'support@bytebase.com' },
  2: { name: 'Ada', email: 'ada@example.com' },
  5: { name: 'Bob', email: 'bob@example.com' },
  6: { name: 'Cyd', email: 'cyd@example.com' },
};
const handles: Record<number, { phone: string | null; slackMemberId: string | null; wecomUserId: string | null }> = {
  2: { phone: '+8613800000002', slackMemberId: 'U0ADA', wecomUserId: 'ada' },
  5: { phone: '+8613800000005', slackMemberId: null, wecomUserId: 'bob' },
};
const ctx: MappingContext = {
  brand: 'Bytebase',
  externalUrl: 'https://herald.example.com',
  project: { id: 3, name: 'Payments' },
  person: (id) => ({ id: id ?? 1, ...people[id ?? 1] }),
  mention: (id) => ({ id, ...people[id], ...(handles[id] ?? { phone: null, slackMemberId: null, wecomUserId: null }) }),
  bot: { id: 1, ...people[1] },
};

/** Maps the last event of a history, as the subscription does: state before and after it. */
function map(history: IssueEvent[], actorId = 2) {
  const before = fold(history.slice(0, -1));
  const after = fold(history);
  const event = { ...history[history.length - 1], occurredAt: '2026-03-01T10:00:00.000Z', metadata: { actorId } };
  return toActivity(event, before, after, ctx);
}

const created = issueCreated({ test: ['db-test'], prod: ['db-prod-1', 'db-prod-2'] });
const link = 'https://herald.example.com/issue/add-index-7';
const field = (f: string, from: unknown, to: unknown) => ({ type: 'issue.field-updated', schemaVersion: 2, data: { issueId: 7, projectId: 3, field: f, from, to } }) as IssueEvent;

describe('activity mapping, row by row', () => {
  it.each([
    ['issue created', [created], 'bb.issue.create', 'INFO', 'Issue created - Add index', ''],
    ['reopened', [created, issueStatus('OPEN', 'CANCELED'), issueStatus('CANCELED', 'OPEN', 'again')], 'bb.issue.status.update', 'INFO', 'Issue reopened - Add index', 'again'],
    ['resolved', [issueCreated({}), issueStatus('OPEN', 'DONE', 'shipped')], 'bb.issue.status.update', 'SUCCESS', 'Issue resolved - Add index', 'shipped'],
    ['canceled', [created, issueStatus('OPEN', 'CANCELED')], 'bb.issue.status.update', 'WARN', 'Issue canceled - Add index', ''],
    ['assignee set', [created, field('assigneeId', null, 5)], 'bb.issue.field.update', 'INFO', 'Assigned issue to Bob - Add index', ''],
    ['assignee changed', [created, field('assigneeId', null, 5), field('assigneeId', 5, 6)], 'bb.issue.field.update', 'INFO', 'Reassigned issue from Bob to Cyd - Add index', ''],
    ['assignee removed', [created, field('assigneeId', null, 5), field('assigneeId', 5, null)], 'bb.issue.field.update', 'INFO', 'Unassigned issue from Bob - Add index', ''],
    ['description', [created, field('description', 'CREATE INDEX', 'DROP INDEX')], 'bb.issue.field.update', 'INFO', 'Changed issue description - Add index', 'DROP INDEX'],
    ['name', [created, field('name', 'Add index', 'Add index v2')], 'bb.issue.field.update', 'INFO', 'Changed issue name - Add index v2', 'Renamed from "Add index"'],
    ['stage begins', [created, stage(10, 'BEGIN', 'PENDING_APPROVAL')], 'bb.pipeline.stage.status.update', 'INFO', 'Stage begins - test', ''],
    ['stage ends, all done', [created, taskChanged(10, 100, 'PENDING_APPROVAL', 'DONE', { skipped: true, skippedReason: 'x' }), stage(10, 'END', 'DONE')], 'bb.pipeline.stage.status.update', 'SUCCESS', 'Stage ends - test', ''],
    ['stage ends, failed', [created, taskChanged(10, 100, 'PENDING_APPROVAL', 'FAILED'), stage(10, 'END', 'FAILED')], 'bb.pipeline.stage.status.update', 'ERROR', 'Stage ends - test', ''],
    ['stage ends, canceled', [created, taskChanged(10, 100, 'PENDING_APPROVAL', 'CANCELED'), stage(10, 'END', 'CANCELED')], 'bb.pipeline.stage.status.update', 'WARN', 'Stage ends - test', ''],
    ['task approved', [created, taskChanged(10, 100, 'PENDING_APPROVAL', 'PENDING')], 'bb.pipeline.task.status.update', 'INFO', 'Task approved - db-test', ''],
    ['task started', [created, taskChanged(10, 100, 'PENDING', 'RUNNING')], 'bb.pipeline.task.status.update', 'INFO', 'Task started - db-test', ''],
    ['task completed', [created, taskChanged(10, 100, 'RUNNING', 'DONE', { comment: 'ok' })], 'bb.pipeline.task.status.update', 'SUCCESS', 'Task completed - db-test', 'ok'],
    ['task skipped', [created, taskChanged(10, 100, 'PENDING_APPROVAL', 'DONE', { skipped: true, skippedReason: 'replica' })], 'bb.pipeline.task.status.update', 'SUCCESS', 'Task skipped - db-test', ''],
    ['task failed', [created, taskChanged(10, 100, 'RUNNING', 'FAILED', { comment: 'lock timeout' })], 'bb.pipeline.task.status.update', 'ERROR', 'Task failed - db-test', 'lock timeout'],
    ['task canceled from running', [created, taskChanged(10, 100, 'RUNNING', 'CANCELED')], 'bb.pipeline.task.status.update', 'WARN', 'Task canceled - db-test', ''],
    ['any other task change', [created, taskChanged(10, 100, 'FAILED', 'PENDING_APPROVAL')], 'bb.pipeline.task.status.update', 'INFO', 'Task changed - db-test', ''],
    ['comment', [created, { type: 'issue.comment-created', schemaVersion: 1, data: { issueId: 7, projectId: 3, commentId: 44, content: 'LGTM' } } as IssueEvent], 'bb.issue.comment.create', 'INFO', 'Comment created - Add index', 'LGTM'],
  ])('%s', (_, history, type, level, title, description) => {
    expect(map(history as IssueEvent[])).toMatchObject({ type, level, title, description });
  });

  const approving = [created, approvalRequired({ approvers: [5, 6] }, { role: 'OWNER' }), approvalRequested(0, [5, 6])];

  it.each([
    ['approval requested', approving, 'bb.issue.approval.requested', 'WARN', 'Approval required', ''],
    ['approved (the last step)', [...approving, by(5, stepApproved(0)), approvalRequested(1, [2]), by(2, stepApproved(1))], 'bb.issue.approved', 'SUCCESS', 'Issue approved', 'Ada approved the issue'],
    ['sent back', [...approving, sentBack(0, 'add a rollback plan')], 'bb.issue.sent-back', 'WARN', 'Issue sent back', 'Ada sent back the issue: add a rollback plan'],
    ['rollout failed', [created, taskChanged(11, 101, 'RUNNING', 'FAILED'), rolloutFailed(11, 101)], 'bb.pipeline.failed', 'ERROR', 'Rollout failed', 'Rollout failed'],
    ['rollout completed', [created, rolloutCompleted()], 'bb.pipeline.completed', 'SUCCESS', 'Rollout completed', 'Rollout completed successfully'],
  ])('%s', (_, history, type, level, title, description) => {
    expect(map(history as IssueEvent[])).toMatchObject({ type, level, title, description });
  });

  it('asks for approval in the creator’s name, naming the step and its approvers, and mentions them with their handles', () => {
    const requested = map([...approving, by(5, stepApproved(0)), approvalRequested(1, [2, 6])], 5)!;
    expect(requested.actor).toEqual({ id: 2, name: 'Ada', email: 'ada@example.com' });
    expect(requested.meta.slice(-2)).toEqual([
      { name: 'Approval Step', value: '2 of 2' },
      { name: 'Approvers', value: 'Ada, Cyd' },
    ]);
    expect(requested.mentions).toEqual([
      { id: 2, name: 'Ada', email: 'ada@example.com', phone: '+8613800000002', slackMemberId: 'U0ADA', wecomUserId: 'ada' },
      { id: 6, name: 'Cyd', email: 'cyd@example.com', phone: null, slackMemberId: null, wecomUserId: null },
    ]);
  });

  it('mentions the creator when the issue is approved or sent back, and no one for rollouts', () => {
    const creator = ctx.mention(2);
    expect(map([...approving, by(5, stepApproved(0)), approvalRequested(1, [6]), by(6, stepApproved(1))], 6)!).toMatchObject({ actor: { id: 6, name: 'Cyd' }, description: 'Cyd approved the issue', mentions: [creator] });
    expect(map([...approving, sentBack(0, 'why?')], 5)!).toMatchObject({ actor: { id: 5 }, description: 'Bob sent back the issue: why?', mentions: [creator] });
    expect(map([created, rolloutCompleted()])!.mentions).toBeUndefined();
  });

  it('maps the approval of a step before the last to no activity (the next step’s request is the news)', () =>
    expect(map([...approving, by(5, stepApproved(0))], 5)).toBeNull());

  it('maps the requirement itself to no activity (its first request is the news)', () => expect(map(approving.slice(0, 2))).toBeNull());

  it('names the stage as the environment of a rollout, as the System Bot', () => {
    const failed = map([created, taskChanged(11, 101, 'RUNNING', 'FAILED'), rolloutFailed(11, 101)], 5)!;
    expect(failed.actor).toEqual(ctx.bot);
    expect(failed.link).toBe(`${link}?stage=11`);
    expect(failed.meta.slice(-2)).toEqual([
      { name: 'Environment', value: 'prod' },
      { name: 'Task', value: 'db-prod-1' },
    ]);
    const completed = map([created, rolloutCompleted()])!;
    expect([completed.actor, completed.link, completed.meta.at(-1)]).toEqual([ctx.bot, link, { name: 'Environment', value: 'prod' }]);
  });

  it('links to the issue by slug, with the comment anchor and the stage parameter', () => {
    expect(map([created])!.link).toBe(link);
    const comment = { type: 'issue.comment-created', schemaVersion: 1, data: { issueId: 7, projectId: 3, commentId: 44, content: 'x' } } as IssueEvent;
    expect(map([created, comment])!.link).toBe(`${link}#activity44`);
    expect(map([created, stage(11, 'BEGIN', 'PENDING_APPROVAL')])!.link).toBe(`${link}?stage=11`);
  });

  it('reports stage activities as the System Bot, everything else as the actor', () => {
    expect(map([created, stage(10, 'BEGIN', 'PENDING_APPROVAL')])!.actor).toEqual({ id: 1, name: 'Bytebase', email: 'support@bytebase.com' });
    expect(map([created, taskChanged(10, 100, 'PENDING', 'RUNNING')], 5)!.actor).toEqual({ id: 5, name: 'Bob', email: 'bob@example.com' });
  });

  it('keeps the event time in epoch seconds and the issue as it was after the event', () => {
    const a = map([created, field('name', 'Add index', 'Renamed')])!;
    expect(a.createdTs).toBe(Date.parse('2026-03-01T10:00:00.000Z') / 1000);
    expect(a.issue).toMatchObject({ id: 7, name: 'Renamed', status: 'OPEN', type: 'bb.issue.database.schema.update', description: 'CREATE INDEX' });
  });

  it('builds the meta lines in order, with task details, result and skip reason', () => {
    expect(map([created, taskChanged(10, 100, 'RUNNING', 'FAILED', { comment: 'lock timeout' })])!.meta).toEqual([
      { name: 'Project Title', value: 'Payments' },
      { name: 'Project ID', value: '3' },
      { name: 'Issue', value: 'Add index' },
      { name: 'Issue Creator', value: 'Ada (ada@example.com)' },
      { name: 'Issue Description', value: 'CREATE INDEX' },
      { name: 'Task', value: 'db-test' },
      { name: 'Status', value: 'FAILED' },
      { name: 'Result Detail', value: 'lock timeout' },
    ]);
    expect(map([created, taskChanged(10, 100, 'PENDING_APPROVAL', 'DONE', { skipped: true, skippedReason: 'replica' })])!.meta.slice(-3)).toEqual([
      { name: 'Task', value: 'db-test' },
      { name: 'Status', value: 'SKIPPED' },
      { name: 'Skipped Reason', value: 'replica' },
    ]);
    expect(map([created, stage(10, 'END', 'FAILED')])!.meta.slice(-2)).toEqual([
      { name: 'Stage', value: 'test' },
      { name: 'Status', value: 'FAILED' },
    ]);
  });

  it('cuts a failed task’s Result Detail like every meta value, and shows it once in chat (not again as the description)', () => {
    const long = 'ERROR: deadlock detected. '.repeat(40);
    const failed = map([created, taskChanged(10, 100, 'RUNNING', 'FAILED', { comment: long })])!;
    expect(failed.meta.at(-1)).toEqual({ name: 'Result Detail', value: cutDescription(long, 'Bytebase') });
    expect(failed.meta.at(-1)!.value).toMatch(/^.{450}\.\.\. \(view details in Bytebase\)$/s);
    // the Custom body keeps the comment whole as its description; chat messages show it once
    expect(failed.description).toBe(long);
    expect(failed.descriptionInMeta).toBe(true);
    expect(partsOf(failed).description).toBe('');
    expect(partsOf(failed).meta.filter((m) => m.value.startsWith('ERROR: deadlock'))).toHaveLength(1);
    // other task changes keep their comment as the description
    const canceled = map([created, taskChanged(10, 100, 'RUNNING', 'CANCELED', { comment: 'window closed' })])!;
    expect([canceled.descriptionInMeta, partsOf(canceled).description]).toEqual([undefined, 'window closed']);
  });

  it('cuts a long description in the meta lines to 450 characters, never inside one', () => {
    expect(cutDescription('x'.repeat(450), 'Bytebase')).toBe('x'.repeat(450));
    expect(cutDescription('😀'.repeat(500), 'Herald')).toBe(`${'😀'.repeat(450)}... (view details in Herald)`);
  });

  it('maps a change that changes nothing (a null name of schema version 1, upcast) to no activity', () => {
    expect(map([created, field('name', 'Add index', 'Add index')])).toBeNull();
  });

  it('maps a comment edit to no activity', () => {
    const comment = { type: 'issue.comment-created', schemaVersion: 1, data: { issueId: 7, projectId: 3, commentId: 44, content: 'x' } } as IssueEvent;
    const edit = { type: 'issue.comment-edited', schemaVersion: 1, data: { issueId: 7, projectId: 3, commentId: 44, content: 'y' } } as IssueEvent;
    expect(map([created, comment, edit])).toBeNull();
  });

  it('builds the test message', () => {
    expect(testActivity('ops', { id: 3, name: 'Payments' }, { brand: 'Bytebase', externalUrl: 'https://h.example', bot: ctx.bot, now: new Date('2026-03-01T10:00:00Z') })).toMatchObject({
      type: 'bb.issue.create',
      level: 'INFO',
      title: 'Test webhook "ops"',
      description: 'This is a test',
      link: 'https://h.example/project/payments-3',
      issue: null,
    });
  });
});
