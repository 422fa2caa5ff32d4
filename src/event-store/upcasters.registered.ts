import { registerIssueUpcasters } from '../issues/issue.upcasters.js';
import { registerWebhookUpcasters } from '../webhooks/config/webhook.upcasters.js';
import type { UpcasterRegistry } from './upcasters.js';

/**
 * Every upcaster of the log, in one place. When an event's shape changes, bump its
 * schemaVersion where it is decided, register the step from the old version here, and
 * raise READ_MODELS_VERSION (read-model-version.ts) so the read models are rebuilt
 * through it at the next start.
 */
export function registerUpcasters(registry: UpcasterRegistry): UpcasterRegistry {
  return registerWebhookUpcasters(registerIssueUpcasters(registry));
}
