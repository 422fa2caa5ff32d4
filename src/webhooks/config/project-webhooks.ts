import type { AggregateDefinition } from '../../event-store/aggregate-store.js';
import type { Evolving } from '../../event-store/event.js';
import { ProjectCreated, ProjectRenamed, type ProjectEvent } from '../../projects/project.events.js';
import { evolveWebhooks, type Webhooks } from './webhook.decider.js';
import { WEBHOOK_EVENT_SCHEMAS, WebhookCreated, type WebhookEvent } from './webhook.events.js';
import { webhookRows } from './webhook.projection.js';

/**
 * A project's webhooks, folded from the project's stream: the stream is their consistency
 * boundary (one webhook per URL in a project), so their events are appended to it. The
 * projects slice knows nothing of webhooks; this slice reads the project events it needs.
 */
export interface ProjectWebhooksState {
  exists: boolean;
  id: number;
  /** The project's name, for the activities of its deliveries. */
  name: string;
  webhooks: Webhooks;
}

/** The AggregateStore of projects' webhooks (provided by EventStoreModule from src/domain.ts). */
export const PROJECT_WEBHOOKS = Symbol('PROJECT_WEBHOOKS');

export const initialProjectWebhooksState: ProjectWebhooksState = { exists: false, id: 0, name: '', webhooks: {} };

export type ProjectWebhooksEvent = ProjectEvent | WebhookEvent;

export function evolveProjectWebhooks(state: ProjectWebhooksState, event: Evolving<ProjectWebhooksEvent>): ProjectWebhooksState {
  switch (event.type) {
    case ProjectCreated:
      return { exists: true, id: event.data.projectId, name: event.data.name, webhooks: {} };
    case ProjectRenamed:
      return { ...state, name: event.data.to };
    default: {
      const webhooks = evolveWebhooks(state.webhooks, event as Evolving<WebhookEvent>);
      return webhooks === state.webhooks ? state : { ...state, webhooks };
    }
  }
}

export const projectWebhooksAggregate: AggregateDefinition<ProjectWebhooksState, ProjectWebhooksEvent> = {
  // the project's own stream ("project-7"), and its messages ("project 7 not found")
  kind: 'project',
  initialState: initialProjectWebhooksState,
  evolve: evolveProjectWebhooks,
  projectState: (state, version) => [
    ...webhookRows(state.id, state.webhooks),
    // a webhook change is a change of the project's stream: the project's version (its ETag) moves with it
    { sql: `UPDATE rm_projects SET version = ? WHERE id = ?`, params: [version, state.id] },
  ],
  allocatedIds: (event) => (event.type === WebhookCreated ? [['webhook', event.data.webhookId]] : []),
  schemas: WEBHOOK_EVENT_SCHEMAS,
};
