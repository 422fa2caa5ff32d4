import type { DomainEvent } from '../event-store/event.js';
import { int, object, oneOf, str, type EventSchemas } from '../event-store/event-schema.js';
import { PROJECT_ROLES, type ProjectRole } from '../contract/projects.js';
import { APPROVAL_STEPS_SCHEMA, type ApprovalStep } from '../issues/issue.events.js';

export const ProjectCreated = 'project.created';
export const ProjectRenamed = 'project.renamed';

export type ProjectCreatedV1 = DomainEvent<typeof ProjectCreated, { projectId: number; name: string; key: string; creatorId: number }> & {
  schemaVersion: 1;
};
export type ProjectRenamedV1 = DomainEvent<typeof ProjectRenamed, { projectId: number; from: string; to: string }> & { schemaVersion: 1 };

/** The roles are the API's too (contract/projects.ts). */
export { PROJECT_ROLES, type ProjectRole };

export const MemberSet = 'project.member-set';
export const MemberRemoved = 'project.member-removed';

export type MemberSetV1 = DomainEvent<typeof MemberSet, { projectId: number; userId: number; role: ProjectRole }> & { schemaVersion: 1 };
export type MemberRemovedV1 = DomainEvent<typeof MemberRemoved, { projectId: number; userId: number }> & { schemaVersion: 1 };

/** The approval steps new issues of the project need unless they name their own (empty: none). */
export const ApprovalStepsSet = 'project.approval-steps-set';
export type ApprovalStepsSetV1 = DomainEvent<typeof ApprovalStepsSet, { projectId: number; steps: ApprovalStep[] }> & { schemaVersion: 1 };

export type ProjectEvent = ProjectCreatedV1 | ProjectRenamedV1 | MemberSetV1 | MemberRemovedV1 | ApprovalStepsSetV1;

/** The data each project event holds at its current version (the webhooks' events on the same stream: WEBHOOK_EVENT_SCHEMAS). */
export const PROJECT_EVENT_SCHEMAS: EventSchemas = {
  [ProjectCreated]: { schemaVersion: 1, data: object({ projectId: int, name: str({ min: 1 }), key: str({ min: 1 }), creatorId: int }) },
  [ProjectRenamed]: { schemaVersion: 1, data: object({ projectId: int, from: str(), to: str({ min: 1 }) }) },
  [MemberSet]: { schemaVersion: 1, data: object({ projectId: int, userId: int, role: oneOf(PROJECT_ROLES) }) },
  [MemberRemoved]: { schemaVersion: 1, data: object({ projectId: int, userId: int }) },
  [ApprovalStepsSet]: { schemaVersion: 1, data: object({ projectId: int, steps: APPROVAL_STEPS_SCHEMA }) },
};
