import type { IssueEvent } from '../../src/issues/issue.events.js';
import {
  ACTOR,
  approvalRequested,
  approvalRequired,
  by,
  fold,
  given,
  issueCreated,
  issueStatus,
  sentBack,
  stage,
  stepApproved,
  taskChanged,
} from '../support/issue-given.js';

/*
 * The approval rules of an issue, read as rules: who may decide at which step, send-back and
 * request again, tasks held while approval is pending, resolution refused until approved.
 * The issue's creator is ACTOR (user 2); users 4 and 5 approve step 1, user 6 step 2.
 */

const CREATOR = ACTOR;
const OWNERS = { projectOwners: [9, 8] };
const twoSteps = [{ approvers: [4, 5] }, { approvers: [6] }];
const created = issueCreated({ dev: ['db1'] });
/** Created with two approval steps; step 1 asked. */
const pending = [created, approvalRequired(...twoSteps), approvalRequested(0, [4, 5]), stage(10, 'BEGIN', 'PENDING_APPROVAL')];
const stepOneApproved = [...pending, by(4, stepApproved(0)), by(4, approvalRequested(1, [6]))];
const approved = [...stepOneApproved, by(6, stepApproved(1))];
const wasSentBack = [...stepOneApproved, by(6, sentBack(1, 'needs a rollback plan'))];

const createWith = (approvalSteps: any[], pipeline = { stages: [{ id: 10, name: 'dev', tasks: [{ id: 100, name: 'db1' }] }] }) =>
  ({ kind: 'CreateIssue', issueId: 7, projectId: 3, name: 'Add index', type: 'bb.issue.database.schema.update', description: 'CREATE INDEX', assigneeId: null, pipeline, approvalSteps }) as const;

describe('an issue that requires approval', () => {
  it('is created with its steps, and the first step is asked at once', () =>
    given().when(createWith(twoSteps)).then([created, approvalRequired(...twoSteps), approvalRequested(0, [4, 5]), stage(10, 'BEGIN', 'PENDING_APPROVAL')]));

  it('asks the project’s owners of the moment for a role step', () =>
    given()
      .when(createWith([{ role: 'OWNER' }]), CREATOR, OWNERS)
      .then([created, approvalRequired({ role: 'OWNER' }), approvalRequested(0, [8, 9]), stage(10, 'BEGIN', 'PENDING_APPROVAL')]));

  it('needs none when created without steps (the seed’s issues)', () => {
    expect(given().when(createWith([])).events().map((e) => e.type)).toEqual(['issue.created', 'issue.stage-status-changed']);
    expect(fold([created]).approval).toBeNull();
  });

  it('shows its approval as PENDING at the first step', () =>
    expect(fold(pending).approval).toMatchObject({ status: 'PENDING', current: 0, asked: [4, 5], approvals: [null, null], sentBack: null }));
});

describe('who may approve at which step', () => {
  it('lets an approver of the current step approve it, and then asks the next step', () =>
    given(...pending).when({ kind: 'Approve' }, 5).then([stepApproved(0), approvalRequested(1, [6])]));

  it('refuses anyone who is not an approver of the current step, naming the step', () => {
    given(...pending).when({ kind: 'Approve' }, 6).thenThrows('forbidden', /step 1 of 2 \(users 4, 5\)/);
    given(...pending).when({ kind: 'Approve' }, CREATOR).thenThrows('forbidden', /only an approver/);
    given(...stepOneApproved).when({ kind: 'Approve' }, 4).thenThrows('forbidden', /step 2 of 2 \(users 6\)/);
  });

  it('lets any owner of the project approve a role step, and no one else', () => {
    const roleStep = [created, approvalRequired({ role: 'OWNER' }), approvalRequested(0, [8, 9])];
    given(...roleStep).when({ kind: 'Approve' }, 8, OWNERS).then([stepApproved(0)]);
    given(...roleStep).when({ kind: 'Approve' }, 4, OWNERS).thenThrows('forbidden', /the project's OWNERs/);
  });

  it('approves the issue with the last step, recording who approved each step and when', () => {
    given(...stepOneApproved).when({ kind: 'Approve' }, 6).then([stepApproved(1)]);
    expect(fold(approved).approval).toMatchObject({
      status: 'APPROVED',
      current: 2,
      asked: [],
      approvals: [
        { by: 4, at: '2026-03-01T10:00:00.000Z' },
        { by: 6, at: '2026-03-01T10:00:00.000Z' },
      ],
    });
  });

  it('refuses further decisions once the approval is complete, whoever asks', () => {
    given(...approved).when({ kind: 'Approve' }, 6).thenThrows('conflict', /complete/);
    given(...approved).when({ kind: 'SendBack', reason: 'late' }, 6).thenThrows('conflict', /complete/);
    given(...approved).when({ kind: 'RequestApproval' }, CREATOR).thenThrows('conflict', /complete/);
  });

  it('refuses approval decisions on an issue that needs none', () =>
    given(created).when({ kind: 'Approve' }, 4).thenThrows('conflict', /requires no approval/));

  it('refuses approval decisions while the issue is not OPEN', () =>
    given(...pending, issueStatus('OPEN', 'CANCELED')).when({ kind: 'Approve' }, 4).thenThrows('conflict', /CANCELED/));
});

describe('send back and request again', () => {
  it('lets an approver of the current step send the issue back with a reason', () =>
    given(...stepOneApproved).when({ kind: 'SendBack', reason: 'needs a rollback plan' }, 6).then([sentBack(1, 'needs a rollback plan')]));

  it('refuses a send-back by anyone who is not an approver of the current step', () =>
    given(...stepOneApproved).when({ kind: 'SendBack', reason: 'no' }, 4).thenThrows('forbidden', /send back/));

  it('takes no approvals or send-backs until approval is requested again', () => {
    expect(fold(wasSentBack).approval).toMatchObject({ status: 'SENT_BACK', sentBack: { by: 6, step: 1, reason: 'needs a rollback plan' } });
    given(...wasSentBack).when({ kind: 'Approve' }, 6).thenThrows('conflict', /requested again/);
    given(...wasSentBack).when({ kind: 'SendBack', reason: 'again' }, 6).thenThrows('conflict', /requested again/);
  });

  it('lets only the creator request approval again, and only after a send-back', () => {
    given(...wasSentBack).when({ kind: 'RequestApproval' }, CREATOR).then([approvalRequested(0, [4, 5])]);
    given(...wasSentBack).when({ kind: 'RequestApproval' }, 6).thenThrows('forbidden', /creator \(user 2\)/);
    given(...pending).when({ kind: 'RequestApproval' }, CREATOR).thenThrows('conflict', /only after a send-back/);
  });

  it('starts over at the first step: the earlier round’s approvals no longer count', () => {
    const again = [...wasSentBack, approvalRequested(0, [4, 5])];
    expect(fold(again).approval).toMatchObject({ status: 'PENDING', current: 0, asked: [4, 5], approvals: [null, null], sentBack: null });
    given(...again).when({ kind: 'Approve' }, 6).thenThrows('forbidden', /step 1 of 2/);
    given(...again, by(4, stepApproved(0)), by(4, approvalRequested(1, [6]))).when({ kind: 'Approve' }, 6).then([stepApproved(1)]);
  });
});

describe('tasks and resolution wait for the approval', () => {
  const statesBeforeApproval: [string, IssueEvent[]][] = [
    ['PENDING at the first step', pending],
    ['PENDING at the second step', stepOneApproved],
    ['SENT_BACK', wasSentBack],
  ];

  it.each(statesBeforeApproval)('holds every task in PENDING_APPROVAL while the approval is %s', (_, history) => {
    given(...history).when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'PENDING' }).thenThrows('conflict', /cannot leave PENDING_APPROVAL until the issue is approved/);
    given(...history).when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'DONE', skipped: true, skippedReason: 'x' }).thenThrows('conflict', /PENDING_APPROVAL/);
  });

  it('lets tasks leave PENDING_APPROVAL once approved', () =>
    given(...approved).when({ kind: 'ChangeTaskStatus', taskId: 100, to: 'PENDING' }).then([taskChanged(10, 100, 'PENDING_APPROVAL', 'PENDING')]));

  it('refuses to resolve the issue before its approval is complete, even with no tasks', () => {
    const noTasks = [issueCreated({}), approvalRequired({ approvers: [4] }), approvalRequested(0, [4])];
    given(...noTasks).when({ kind: 'ChangeIssueStatus', to: 'DONE' }).thenThrows('conflict', /cannot be resolved before its approval is complete/);
    given(...noTasks, by(4, stepApproved(0))).when({ kind: 'ChangeIssueStatus', to: 'DONE' }).then([issueStatus('OPEN', 'DONE')]);
  });

  it('still lets the issue be canceled while approval is pending', () =>
    given(...pending).when({ kind: 'ChangeIssueStatus', to: 'CANCELED' }).then([issueStatus('OPEN', 'CANCELED')]));
});
