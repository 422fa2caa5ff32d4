import type { DataSource } from 'typeorm';
import type { StreamRegistration, DomainRegistrations } from './event-store/event-store.module.js';
import type { EventStore } from './event-store/event-store.js';
import { importConformingEvents, type ExportedEvent } from './event-store/import.js';
import { openEventStoreWith } from './event-store/open-event-store.js';
import type { EventSchemas } from './event-store/event-schema.js';
import { UpcasterRegistry } from './event-store/upcasters.js';
import { ISSUE_EVENT_SCHEMAS } from './issues/issue.events.js';
import { issueAggregate, ISSUES } from './issues/issue.projection.js';
import { registerIssueUpcasters } from './issues/issue.upcasters.js';
import { PROJECT_EVENT_SCHEMAS } from './projects/project.events.js';
import { projectAggregate, PROJECTS } from './projects/project.projection.js';
import type { Clock } from './shared/clock.js';
import { USER_EVENT_SCHEMAS } from './users/user.events.js';
import { userAggregate, USERS } from './users/user.aggregate.js';
import { PROJECT_WEBHOOKS, projectWebhooksAggregate } from './webhooks/config/project-webhooks.js';
import { redactEvent } from './webhooks/config/redact.js';
import { WEBHOOK_EVENT_SCHEMAS } from './webhooks/config/webhook.events.js';
import { IM_APP_EVENT_SCHEMAS } from './webhooks/direct-messages/im-app.events.js';
import { registerWebhookUpcasters } from './webhooks/config/webhook.upcasters.js';

/**
 * The domain as the event store sees it, registered here at the top so that event-store/
 * imports no feature: every kind of stream, every event schema, every upcaster. Adding an
 * aggregate is one line in STREAMS; a new event shape is a line in registerUpcasters.
 */
export const STREAMS: StreamRegistration[] = [
  { token: USERS, definition: userAggregate },
  { token: PROJECTS, definition: projectAggregate },
  // the webhooks of a project: their own aggregate over the project's stream
  { token: PROJECT_WEBHOOKS, definition: projectWebhooksAggregate },
  { token: ISSUES, definition: issueAggregate },
];

/** Every event type of the log with its current schema: the start-up check and imports judge events by it. */
export const EVENT_SCHEMAS: EventSchemas = { ...USER_EVENT_SCHEMAS, ...PROJECT_EVENT_SCHEMAS, ...WEBHOOK_EVENT_SCHEMAS, ...IM_APP_EVENT_SCHEMAS, ...ISSUE_EVENT_SCHEMAS };

/**
 * Every upcaster of the log, in one place. When an event's shape changes, bump its
 * schemaVersion where it is decided, register the step from the old version here, and
 * raise READ_MODELS_VERSION (projection-rebuilder.ts) so the read models are rebuilt
 * through it at the next start.
 */
export function registerUpcasters(registry: UpcasterRegistry): UpcasterRegistry {
  return registerWebhookUpcasters(registerIssueUpcasters(registry));
}

export const DOMAIN: DomainRegistrations = { streams: STREAMS, schemas: EVENT_SCHEMAS, registerUpcasters, redact: redactEvent };

/** The definitions of every kind of stream, for a ProjectionRebuilder outside the app (the CLI, the benchmark). */
export const AGGREGATES = STREAMS.map((s) => s.definition);

/** The store of the configured engine, reading the log through every upcaster. */
export function openEventStore(ds: DataSource, clock: Clock, options: { listen?: boolean } = {}): EventStore {
  return openEventStoreWith(ds, clock, registerUpcasters(new UpcasterRegistry()), options);
}

/** Imports exported events (see importConformingEvents), judged by every schema of the log. */
export function importEvents(store: EventStore, events: ExportedEvent[], onProgress?: (done: number, total: number) => void): Promise<number> {
  return importConformingEvents(store, events, EVENT_SCHEMAS, onProgress);
}
