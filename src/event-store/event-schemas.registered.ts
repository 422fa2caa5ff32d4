import { ISSUE_EVENT_SCHEMAS } from '../issues/issue.events.js';
import { PROJECT_EVENT_SCHEMAS } from '../projects/project.events.js';
import { USER_EVENT_SCHEMAS } from '../users/user.events.js';
import type { EventSchemas } from './event-schema.js';

/** Every event type of the log with its current schema: the start-up check and imports judge events by it. */
export const EVENT_SCHEMAS: EventSchemas = { ...USER_EVENT_SCHEMAS, ...PROJECT_EVENT_SCHEMAS, ...ISSUE_EVENT_SCHEMAS };
