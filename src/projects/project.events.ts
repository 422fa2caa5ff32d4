import type { DomainEvent } from '../event-store/event.js';
import type { WebhookEvent } from '../webhooks/config/webhook.events.js';

export const ProjectCreated = 'project.created';
export const ProjectRenamed = 'project.renamed';

export type ProjectCreatedV1 = DomainEvent<typeof ProjectCreated, { projectId: number; name: string; key: string; creatorId: number }> & {
  schemaVersion: 1;
};
export type ProjectRenamedV1 = DomainEvent<typeof ProjectRenamed, { projectId: number; from: string; to: string }> & { schemaVersion: 1 };

export type ProjectEvent = ProjectCreatedV1 | ProjectRenamedV1 | WebhookEvent;
