import type { AggregateDefinition, Projection } from '../../event-store/aggregate-store.js';
import { evolveProjectWebhooks, initialProjectWebhooksState, type ProjectWebhooksEvent, type ProjectWebhooksState } from './webhook.decider.js';
import { WEBHOOK_EVENT_SCHEMAS, WebhookCreated } from './webhook.events.js';
import { webhookRows } from './webhook.projection.js';
import { imAppRows } from '../direct-messages/im-app.projection.js';
import { IM_APP_EVENT_SCHEMAS } from '../direct-messages/im-app.events.js';

/** rm_webhooks: each project's webhooks (settings and health), replaced with its state. */
export const webhooksReadModel: Projection<ProjectWebhooksState, ProjectWebhooksEvent> = {
  table: 'rm_webhooks',
  fromState: (state, version) => [
    ...webhookRows(state.id, state.webhooks),
    // a webhook change is a change of the project's stream: the project's version (its ETag) moves with it
    { sql: `UPDATE rm_projects SET version = ? WHERE id = ?`, params: [version, state.id] },
  ],
};

/** rm_im_apps: each project's IM apps (credentials sealed), replaced with its state. */
export const imAppsReadModel: Projection<ProjectWebhooksState, ProjectWebhooksEvent> = {
  table: 'rm_im_apps',
  fromState: (state) => imAppRows(state.id, state.imApps ?? {}),
};

/** The AggregateStore of projects' webhooks (provided by EventStoreModule from src/domain.ts). */
export const PROJECT_WEBHOOKS = Symbol('PROJECT_WEBHOOKS');

/** A project's webhooks as an aggregate over the project's stream (see ProjectWebhooksState): the projects slice knows nothing of webhooks. */
export const projectWebhooksAggregate: AggregateDefinition<ProjectWebhooksState, ProjectWebhooksEvent> = {
  // the project's own stream ("project-7"), and its messages ("project 7 not found")
  kind: 'project',
  initialState: initialProjectWebhooksState,
  evolve: evolveProjectWebhooks,
  projections: [webhooksReadModel, imAppsReadModel],
  allocatedIds: (event) => (event.type === WebhookCreated ? [['webhook', event.data.webhookId]] : []),
  schemas: { ...WEBHOOK_EVENT_SCHEMAS, ...IM_APP_EVENT_SCHEMAS },
};
