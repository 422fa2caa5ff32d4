import { keyFromName, projectDecider, type ProjectCommand } from '../../src/projects/project.decider.js';
import type { ProjectEvent, ProjectRole } from '../../src/projects/project.events.js';
import { ACTOR, specification } from '../support/given.js';

const given = specification(projectDecider, {});
const P = 3;

const created = (creatorId = ACTOR): ProjectEvent => ({ type: 'project.created', schemaVersion: 1, data: { projectId: P, name: 'Payments', key: 'PAY', creatorId } });
const memberSet = (userId: number, role: ProjectRole): ProjectEvent => ({ type: 'project.member-set', schemaVersion: 1, data: { projectId: P, userId, role } });
const memberRemoved = (userId: number): ProjectEvent => ({ type: 'project.member-removed', schemaVersion: 1, data: { projectId: P, userId } });

describe('creating a project', () => {
  it('records the creator, who becomes its owner', () => {
    given().when({ kind: 'CreateProject', projectId: P, name: 'Payments', key: 'PAY' }).then([created()]);
    expect(given(created()).state().members).toEqual({ [ACTOR]: 'OWNER' });
  });

  it('refuses to create it twice', () => given(created()).when({ kind: 'CreateProject', projectId: P, name: 'Payments', key: 'PAY' }).thenThrows('conflict', /project 3 already exists/));
});

describe('changing a project that does not exist', () => {
  it.each<ProjectCommand>([
    { kind: 'RenameProject', name: 'x' },
    { kind: 'SetMember', userId: 5, role: 'DEVELOPER' },
    { kind: 'RemoveMember', userId: 5 },
    { kind: 'SetApprovalSteps', steps: [] },
  ])('refuses $kind with not-found', (command) => given().when(command).thenThrows('not-found', /project/));
});

describe('renaming', () => {
  it('records the old and the new name', () =>
    given(created()).when({ kind: 'RenameProject', name: 'Billing' }).then([{ type: 'project.renamed', schemaVersion: 1, data: { projectId: P, from: 'Payments', to: 'Billing' } }]));

  it('records nothing when the name is the same', () => given(created()).when({ kind: 'RenameProject', name: 'Payments' }).thenNothingHappened());
});

describe('members', () => {
  it('adds a member with a role', () => given(created()).when({ kind: 'SetMember', userId: 5, role: 'DEVELOPER' }).then([memberSet(5, 'DEVELOPER')]));

  it('records nothing when the member has that role already', () => given(created(), memberSet(5, 'DEVELOPER')).when({ kind: 'SetMember', userId: 5, role: 'DEVELOPER' }).thenNothingHappened());

  it('refuses to make the last owner a developer', () => given(created()).when({ kind: 'SetMember', userId: ACTOR, role: 'DEVELOPER' }).thenThrows('conflict', /user 2 is the project's last owner/));

  it('lets an owner step down while another owner stays', () =>
    given(created(), memberSet(5, 'OWNER')).when({ kind: 'SetMember', userId: ACTOR, role: 'DEVELOPER' }).then([memberSet(ACTOR, 'DEVELOPER')]));

  it('removes a member', () => given(created(), memberSet(5, 'DEVELOPER')).when({ kind: 'RemoveMember', userId: 5 }).then([memberRemoved(5)]));

  it('refuses to remove someone who is not a member', () => given(created()).when({ kind: 'RemoveMember', userId: 5 }).thenThrows('not-found', /member 5/));

  it('refuses to remove a member removed before', () => given(created(), memberSet(5, 'DEVELOPER'), memberRemoved(5)).when({ kind: 'RemoveMember', userId: 5 }).thenThrows('not-found', /member 5/));

  it('refuses to remove the last owner', () => given(created(), memberSet(5, 'DEVELOPER')).when({ kind: 'RemoveMember', userId: ACTOR }).thenThrows('conflict', /last owner/));

  it('removes an owner while another owner stays', () => given(created(), memberSet(5, 'OWNER')).when({ kind: 'RemoveMember', userId: ACTOR }).then([memberRemoved(ACTOR)]));
});

describe('approval steps', () => {
  const steps = [{ role: 'OWNER' as const }, { approvers: [5] }];

  it('records the steps new issues need', () =>
    given(created()).when({ kind: 'SetApprovalSteps', steps }).then([{ type: 'project.approval-steps-set', schemaVersion: 1, data: { projectId: P, steps } }]));

  it('records nothing when the steps are the same', () =>
    given(created(), { type: 'project.approval-steps-set', schemaVersion: 1, data: { projectId: P, steps } }).when({ kind: 'SetApprovalSteps', steps }).thenNothingHappened());

  it('records nothing when none are set and none are asked', () => given(created()).when({ kind: 'SetApprovalSteps', steps: [] }).thenNothingHappened());
});

describe('a default key from the name', () => {
  it.each([
    ['Payments team', 'PAYMENTSTE'],
    ['db-ops', 'DBOPS'],
    ['42 things', 'P42THINGS'],
    ['!!!', 'P'],
  ])('%s -> %s', (name, key) => expect(keyFromName(name)).toBe(key));
});
