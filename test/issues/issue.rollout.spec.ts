import { given, issueCreated, rolloutCompleted, rolloutFailed, stage, taskChanged } from '../support/issue-given.js';

/*
 * The rollout as a whole (the issue's pipeline): a failure is announced once, and not again until
 * a failed task is retried or skipped; completion once every task of every stage is done.
 * Stages "test" (10: tasks 100, 101) and "prod" (11: task 102).
 */

const created = [issueCreated({ test: ['t1', 't2'], prod: ['p1'] }), stage(10, 'BEGIN', 'PENDING_APPROVAL')];
const bothRunning = [...created, taskChanged(10, 100, 'PENDING_APPROVAL', 'RUNNING'), taskChanged(10, 101, 'PENDING_APPROVAL', 'RUNNING')];
const firstFailed = [...bothRunning, taskChanged(10, 100, 'RUNNING', 'FAILED'), rolloutFailed(10, 100)];
const skip = { skipped: true, skippedReason: 'by hand' };

describe('rollout failed', () => {
  it('is announced with the first task that fails, naming its stage and task', () =>
    given(...bothRunning).when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'FAILED' }).then([taskChanged(10, 100, 'RUNNING', 'FAILED'), rolloutFailed(10, 100)]));

  it('is not announced again for another failure before a retry', () =>
    given(...firstFailed)
      .when({ kind: 'ChangeTaskStatus', taskId: 101, to: 'FAILED' })
      .then([taskChanged(10, 101, 'RUNNING', 'FAILED'), stage(10, 'END', 'FAILED')]));

  it('is announced again when a task fails after a failed task was retried', () => {
    const retried = [...firstFailed, taskChanged(10, 100, 'FAILED', 'PENDING_APPROVAL'), taskChanged(10, 100, 'PENDING_APPROVAL', 'RUNNING')];
    given(...retried).when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'FAILED' }).then([taskChanged(10, 100, 'RUNNING', 'FAILED'), rolloutFailed(10, 100)]);
  });

  it('is announced again when a task fails after a failed task was skipped', () =>
    given(...firstFailed, taskChanged(10, 100, 'FAILED', 'DONE', skip))
      .when({ kind: 'ChangeTaskStatus', taskId: 101, to: 'FAILED' })
      .then([taskChanged(10, 101, 'RUNNING', 'FAILED'), stage(10, 'END', 'FAILED'), rolloutFailed(10, 101)]));
});

describe('rollout completed', () => {
  const testDone = [...bothRunning, taskChanged(10, 100, 'RUNNING', 'DONE'), taskChanged(10, 101, 'RUNNING', 'DONE'), stage(10, 'END', 'DONE'), stage(11, 'BEGIN', 'PENDING_APPROVAL')];

  it('is announced when the last task of the last stage is done, after the stage ends', () =>
    given(...testDone, taskChanged(11, 102, 'PENDING_APPROVAL', 'RUNNING'))
      .when({ kind: 'ChangeTaskStatus', taskId: 102, to: 'DONE' })
      .then([taskChanged(11, 102, 'RUNNING', 'DONE'), stage(11, 'END', 'DONE'), rolloutCompleted()]));

  it('counts skipped tasks as done', () =>
    given(...testDone)
      .when({ kind: 'ChangeTaskStatus', taskId: 102, to: 'DONE', ...skip })
      .then([taskChanged(11, 102, 'PENDING_APPROVAL', 'DONE', skip), stage(11, 'END', 'DONE'), rolloutCompleted()]));

  it('is announced after a failure was retried and then done', () =>
    given(...firstFailed, taskChanged(10, 100, 'FAILED', 'PENDING_APPROVAL'), taskChanged(10, 100, 'PENDING_APPROVAL', 'RUNNING'), taskChanged(10, 101, 'RUNNING', 'DONE'), taskChanged(11, 102, 'PENDING_APPROVAL', 'DONE', skip))
      .when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'DONE' })
      .then([taskChanged(10, 100, 'RUNNING', 'DONE'), stage(10, 'END', 'DONE'), stage(11, 'BEGIN', 'DONE'), rolloutCompleted()]));

  it('is not announced while a task of any stage is not done', () =>
    given(...created)
      .when({ kind: 'ChangeTaskStatus', taskId: 102, to: 'DONE', ...skip })
      .then([taskChanged(11, 102, 'PENDING_APPROVAL', 'DONE', skip), stage(11, 'END', 'DONE')]));
});
