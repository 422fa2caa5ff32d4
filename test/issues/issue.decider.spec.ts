import { TASK_STATUSES, type TaskStatus } from '../../src/issues/issue.events.js';
import { stageStatus } from '../../src/issues/issue.rules.js';
import { given, issueCreated, issueStatus, rolloutFailed, stage, taskChanged } from '../support/issue-given.js';

// One stage "dev" (id 10) with one task "db1" (id 100), its BEGIN already announced.
const oneTask = [issueCreated({ dev: ['db1'] }), stage(10, 'BEGIN', 'PENDING_APPROVAL')];
const withTaskIn = (status: TaskStatus) => (status === 'PENDING_APPROVAL' ? oneTask : [...oneTask, taskChanged(10, 100, 'PENDING_APPROVAL', status)]);

/** The spec's table, written out: from → allowed targets, and which moves to DONE must be skips. */
const ALLOWED: Record<TaskStatus, TaskStatus[]> = {
  PENDING_APPROVAL: ['PENDING', 'DONE'],
  PENDING: ['RUNNING', 'CANCELED', 'PENDING_APPROVAL', 'DONE'],
  RUNNING: ['DONE', 'FAILED', 'CANCELED'],
  FAILED: ['PENDING_APPROVAL', 'DONE'],
  CANCELED: ['PENDING_APPROVAL', 'DONE'],
  DONE: [],
};
const DONE_ONLY_AS_SKIP: TaskStatus[] = ['PENDING_APPROVAL', 'FAILED', 'CANCELED'];

describe('task transitions', () => {
  for (const from of TASK_STATUSES) {
    for (const to of TASK_STATUSES) {
      const allowed = ALLOWED[from].includes(to);
      const needsSkip = to === 'DONE' && DONE_ONLY_AS_SKIP.includes(from);
      if (!allowed) {
        it(`refuses ${from} → ${to}, naming both`, () =>
          given(...withTaskIn(from))
            .when({ kind: 'ChangeTaskStatus', taskId: 100, to })
            .thenThrows('conflict', new RegExp(`${from} to ${to}`)));
        continue;
      }
      const change = needsSkip ? { skipped: true, skippedReason: 'not needed' } : {};
      it(`allows ${from} → ${to}${needsSkip ? ' as a skip' : ''}`, () => {
        const events = given(...withTaskIn(from)).when({ kind: 'ChangeTaskStatus', taskId: 100, to, ...change }).events();
        expect(events[0]).toEqual(taskChanged(10, 100, from, to, change));
      });
      if (needsSkip) {
        it(`refuses ${from} → DONE without skipped: true`, () =>
          given(...withTaskIn(from)).when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'DONE' }).thenThrows('conflict', /skip/));
      }
    }
  }

  it('refuses a skip without a reason, and a skip to anything but DONE', () => {
    given(...oneTask).when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'DONE', skipped: true }).thenThrows('invalid', /reason/);
    given(...oneTask).when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'PENDING', skipped: true, skippedReason: 'x' }).thenThrows('invalid');
  });

  it('refuses to skip a running task', () =>
    given(...withTaskIn('RUNNING')).when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'DONE', skipped: true, skippedReason: 'x' }).thenThrows('conflict'));

  it('keeps the comment given with a task change', () =>
    given(...withTaskIn('RUNNING'))
      .when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'FAILED', comment: 'lock timeout' })
      .then([taskChanged(10, 100, 'RUNNING', 'FAILED', { comment: 'lock timeout' }), stage(10, 'END', 'FAILED'), rolloutFailed(10, 100)]));

  it('does not know a task of another issue', () =>
    given(...oneTask).when({ kind: 'ChangeTaskStatus', taskId: 999, to: 'PENDING' }).thenThrows('not-found', /task 999/));

  it('refuses to start a task of a later stage while an earlier stage is unfinished', () =>
    given(issueCreated({ test: ['t1'], prod: ['p1'] }), stage(10, 'BEGIN', 'PENDING_APPROVAL'), taskChanged(11, 101, 'PENDING_APPROVAL', 'PENDING'))
      .when({ kind: 'ChangeTaskStatus', taskId: 101, to: 'RUNNING' })
      .thenThrows('conflict', /earlier stage "test" is not done/));

  it('lets a later stage run once the earlier stage is done', () =>
    given(
      issueCreated({ test: ['t1'], prod: ['p1'] }),
      stage(10, 'BEGIN', 'PENDING_APPROVAL'),
      taskChanged(10, 100, 'PENDING_APPROVAL', 'DONE', { skipped: true, skippedReason: 'x' }),
      stage(10, 'END', 'DONE'),
      stage(11, 'BEGIN', 'PENDING_APPROVAL'),
      taskChanged(11, 101, 'PENDING_APPROVAL', 'PENDING'),
    )
      .when({ kind: 'ChangeTaskStatus', taskId: 101, to: 'RUNNING' })
      .then([taskChanged(11, 101, 'PENDING', 'RUNNING')]));
});

describe('stage BEGIN and END', () => {
  it('begins the first stage right after the issue is created', () => {
    const created = issueCreated({ test: ['t1'], prod: ['p1'] });
    given()
      .when({ kind: 'CreateIssue', issueId: 7, projectId: 3, name: 'Add index', type: 'bb.issue.database.schema.update', description: 'CREATE INDEX', assigneeId: null, pipeline: (created.data as any).pipeline })
      .then([created, stage(10, 'BEGIN', 'PENDING_APPROVAL')]);
  });

  it('announces no stage for an issue with an empty pipeline', () =>
    given()
      .when({ kind: 'CreateIssue', issueId: 7, projectId: 3, name: 'Add index', type: 'bb.issue.database.schema.update', description: 'CREATE INDEX', assigneeId: null, pipeline: { stages: [] } })
      .then([issueCreated({})]));

  it('ends a stage with SUCCESS status DONE and begins the next when its last task is done', () =>
    given(issueCreated({ test: ['t1', 't2'], prod: ['p1'] }), stage(10, 'BEGIN', 'PENDING_APPROVAL'), taskChanged(10, 100, 'PENDING_APPROVAL', 'DONE', { skipped: true, skippedReason: 'x' }), taskChanged(10, 101, 'PENDING_APPROVAL', 'RUNNING'))
      .when({ kind: 'ChangeTaskStatus', taskId: 101, to: 'DONE' })
      .then([taskChanged(10, 101, 'RUNNING', 'DONE'), stage(10, 'END', 'DONE'), stage(11, 'BEGIN', 'PENDING_APPROVAL')]));

  it('does not end a stage while a task is not terminal', () =>
    given(issueCreated({ test: ['t1', 't2'] }), stage(10, 'BEGIN', 'PENDING_APPROVAL'), taskChanged(10, 100, 'PENDING_APPROVAL', 'RUNNING'))
      .when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'DONE' })
      .then([taskChanged(10, 100, 'RUNNING', 'DONE')]));

  it('ends a stage as FAILED without beginning the next one', () =>
    given(issueCreated({ test: ['t1'], prod: ['p1'] }), stage(10, 'BEGIN', 'PENDING_APPROVAL'), taskChanged(10, 100, 'PENDING_APPROVAL', 'RUNNING'))
      .when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'FAILED' })
      .then([taskChanged(10, 100, 'RUNNING', 'FAILED'), stage(10, 'END', 'FAILED'), rolloutFailed(10, 100)]));

  it('ends a stage as CANCELED when tasks are canceled and none failed', () =>
    given(issueCreated({ test: ['t1', 't2'] }), stage(10, 'BEGIN', 'PENDING_APPROVAL'), taskChanged(10, 100, 'PENDING_APPROVAL', 'DONE', { skipped: true, skippedReason: 'x' }), taskChanged(10, 101, 'PENDING_APPROVAL', 'RUNNING'))
      .when({ kind: 'ChangeTaskStatus', taskId: 101, to: 'CANCELED' })
      .then([taskChanged(10, 101, 'RUNNING', 'CANCELED'), stage(10, 'END', 'CANCELED')]));

  it('ends a stage again after a retry, and begins the next stage only once', () => {
    const history = [
      issueCreated({ test: ['t1'], prod: ['p1'] }),
      stage(10, 'BEGIN', 'PENDING_APPROVAL'),
      taskChanged(10, 100, 'PENDING_APPROVAL', 'RUNNING'),
      taskChanged(10, 100, 'RUNNING', 'FAILED'),
      stage(10, 'END', 'FAILED'),
      taskChanged(10, 100, 'FAILED', 'PENDING_APPROVAL'),
      taskChanged(10, 100, 'PENDING_APPROVAL', 'RUNNING'),
    ];
    given(...history)
      .when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'DONE' })
      .then([taskChanged(10, 100, 'RUNNING', 'DONE'), stage(10, 'END', 'DONE'), stage(11, 'BEGIN', 'PENDING_APPROVAL')]);
  });

  it('passes over a following stage whose tasks were all skipped already, beginning each once', () =>
    given(
      issueCreated({ a: ['a1'], b: ['b1'], c: ['c1'] }),
      stage(10, 'BEGIN', 'PENDING_APPROVAL'),
      taskChanged(11, 101, 'PENDING_APPROVAL', 'DONE', { skipped: true, skippedReason: 'x' }),
      stage(11, 'END', 'DONE'),
      taskChanged(10, 100, 'PENDING_APPROVAL', 'RUNNING'),
    )
      .when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'DONE' })
      .then([taskChanged(10, 100, 'RUNNING', 'DONE'), stage(10, 'END', 'DONE'), stage(11, 'BEGIN', 'DONE'), stage(12, 'BEGIN', 'PENDING_APPROVAL')]));

  it('does not begin the next stage when a later stage finishes first', () =>
    given(issueCreated({ a: ['a1'], b: ['b1'] }), stage(10, 'BEGIN', 'PENDING_APPROVAL'))
      .when({ kind: 'ChangeTaskStatus', taskId: 101, to: 'DONE', skipped: true, skippedReason: 'x' })
      .then([taskChanged(11, 101, 'PENDING_APPROVAL', 'DONE', { skipped: true, skippedReason: 'x' }), stage(11, 'END', 'DONE')]));
});

describe('derived stage status', () => {
  const t = (...statuses: TaskStatus[]) => statuses.map((status) => ({ status }));
  it.each([
    [t('PENDING_APPROVAL', 'PENDING'), 'PENDING_APPROVAL'],
    [t('PENDING', 'PENDING'), 'PENDING'],
    [t('RUNNING', 'PENDING'), 'RUNNING'],
    [t('DONE', 'PENDING'), 'RUNNING'],
    [t('DONE', 'DONE'), 'DONE'],
    [t('DONE', 'FAILED', 'CANCELED'), 'FAILED'],
    [t('DONE', 'CANCELED'), 'CANCELED'],
  ])('%j → %s', (tasks, expected) => expect(stageStatus(tasks)).toBe(expected));
});

describe('issue status', () => {
  const created = issueCreated({ test: ['t1', 't2'] });
  const begun = stage(10, 'BEGIN', 'PENDING_APPROVAL');

  it('refuses to resolve while tasks are unfinished, naming them', () =>
    given(created, begun, taskChanged(10, 100, 'PENDING_APPROVAL', 'DONE', { skipped: true, skippedReason: 'x' }))
      .when({ kind: 'ChangeIssueStatus', to: 'DONE' })
      .thenThrows('conflict', /t2 \(PENDING_APPROVAL\)/));

  it('resolves when every task is done, keeping the comment', () =>
    given(created, begun, taskChanged(10, 100, 'PENDING_APPROVAL', 'DONE', { skipped: true, skippedReason: 'x' }), taskChanged(10, 101, 'PENDING_APPROVAL', 'DONE', { skipped: true, skippedReason: 'x' }))
      .when({ kind: 'ChangeIssueStatus', to: 'DONE', comment: 'shipped' })
      .then([issueStatus('OPEN', 'DONE', 'shipped')]));

  it('resolves an issue with an empty pipeline', () =>
    given(issueCreated({})).when({ kind: 'ChangeIssueStatus', to: 'DONE' }).then([issueStatus('OPEN', 'DONE')]));

  it('cancels every running task with the issue, and ends their stage', () =>
    given(created, begun, taskChanged(10, 100, 'PENDING_APPROVAL', 'RUNNING'), taskChanged(10, 101, 'PENDING_APPROVAL', 'RUNNING'))
      .when({ kind: 'ChangeIssueStatus', to: 'CANCELED' })
      .then([
        taskChanged(10, 100, 'RUNNING', 'CANCELED'),
        taskChanged(10, 101, 'RUNNING', 'CANCELED'),
        stage(10, 'END', 'CANCELED'),
        issueStatus('OPEN', 'CANCELED'),
      ]));

  it('leaves tasks that are not running alone when canceling', () =>
    given(created, begun, taskChanged(10, 100, 'PENDING_APPROVAL', 'RUNNING'))
      .when({ kind: 'ChangeIssueStatus', to: 'CANCELED' })
      .then([taskChanged(10, 100, 'RUNNING', 'CANCELED'), issueStatus('OPEN', 'CANCELED')]));

  it('reopens a resolved or canceled issue', () => {
    given(issueCreated({}), issueStatus('OPEN', 'DONE')).when({ kind: 'ChangeIssueStatus', to: 'OPEN' }).then([issueStatus('DONE', 'OPEN')]);
    given(created, issueStatus('OPEN', 'CANCELED')).when({ kind: 'ChangeIssueStatus', to: 'OPEN' }).then([issueStatus('CANCELED', 'OPEN')]);
  });

  it('refuses a change to the current status and records nothing', () => {
    given(created).when({ kind: 'ChangeIssueStatus', to: 'OPEN' }).thenThrows('conflict', /already OPEN/);
    given(created, issueStatus('OPEN', 'CANCELED')).when({ kind: 'ChangeIssueStatus', to: 'CANCELED' }).thenThrows('conflict');
  });

  it('freezes tasks and fields of a closed issue but still takes comments', () => {
    const closed = [created, begun, issueStatus('OPEN', 'CANCELED')];
    given(...closed).when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'PENDING' }).thenThrows('conflict', /CANCELED/);
    given(...closed).when({ kind: 'UpdateIssueFields', name: 'new' }).thenThrows('conflict', /reopened/);
    expect(given(...closed).when({ kind: 'CreateComment', commentId: 5, content: 'why?' }).events()).toHaveLength(1);
  });
});

describe('field updates and comments', () => {
  const created = issueCreated({});
  const field = (f: string, from: unknown, to: unknown) => ({ type: 'issue.field-updated', schemaVersion: 2, data: { issueId: 7, projectId: 3, field: f, from, to } });

  it('records one event per field that really changed', () =>
    given(created)
      .when({ kind: 'UpdateIssueFields', name: 'Add index', description: 'new text', assigneeId: 5 })
      .then([field('description', 'CREATE INDEX', 'new text'), field('assigneeId', null, 5)] as never));

  it('records nothing when nothing changes', () =>
    given(created).when({ kind: 'UpdateIssueFields', name: 'Add index', description: 'CREATE INDEX', assigneeId: null }).then([]));

  it('unassigns with null', () =>
    given(created, field('assigneeId', null, 5) as never).when({ kind: 'UpdateIssueFields', assigneeId: null }).then([field('assigneeId', 5, null)] as never));

  it('lets only the author edit a comment', () => {
    const commented = { type: 'issue.comment-created', schemaVersion: 1, data: { issueId: 7, projectId: 3, commentId: 5, content: 'hi' } } as never;
    given(created, commented).when({ kind: 'EditComment', commentId: 5, content: 'hello' }, 9).thenThrows('forbidden', /author/);
    given(created, commented)
      .when({ kind: 'EditComment', commentId: 5, content: 'hello' })
      .then([{ type: 'issue.comment-edited', schemaVersion: 1, data: { issueId: 7, projectId: 3, commentId: 5, content: 'hello' } }]);
    given(created, commented).when({ kind: 'EditComment', commentId: 6, content: 'x' }).thenThrows('not-found');
    given(created, commented).when({ kind: 'EditComment', commentId: 5, content: 'hi', currentContent: 'hi' }).then([]);
  });
});
