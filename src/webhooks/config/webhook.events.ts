import type { DomainEvent } from '../../event-store/event.js';
import type { ActivityType } from '../activity.js';
import type { WebhookType } from '../providers/registry.js';

export const WEBHOOK_STATES = ['ACTIVE', 'TEMPORARILY_DISABLED', 'DISABLED'] as const;
export type WebhookHealthState = (typeof WEBHOOK_STATES)[number];

/** Webhook configuration lives on its project's stream. */
export const WebhookCreated = 'webhook.created';
export const WebhookUpdated = 'webhook.updated';
export const WebhookDeleted = 'webhook.deleted';
export const WebhookHealthChanged = 'webhook.health-changed';
/** The webhook's credentials sealed again under the current key (key rotation). */
export const WebhookSecretsResealed = 'webhook.secrets-resealed';

/**
 * Credentials (the URL, the signing secret, custom header values) are stored sealed
 * (see SecretBox): the log and the read models never hold them in clear.
 */
export interface WebhookSettingsData {
  type: WebhookType;
  name: string;
  /** Sealed. */
  url: string;
  /** What may be shown: scheme, host and first path segment. */
  urlMasked: string;
  /** A keyed digest of the URL, to find duplicates without the URL in clear. */
  urlDigest: string;
  activityTypes: ActivityType[];
  active: boolean;
  /** Sealed, or null. */
  signingSecret: string | null;
  /** The secret a rotation replaced: it keeps signing (a second `v1,` entry) until `until`. */
  previousSigningSecret: { secret: string; until: string } | null;
  /** Values sealed. */
  headers: Record<string, string>;
  ordered: boolean;
}

export type WebhookCreatedV1 = DomainEvent<typeof WebhookCreated, { projectId: number; webhookId: number } & WebhookSettingsData> & {
  schemaVersion: 1;
};
export type WebhookUpdatedV1 = DomainEvent<typeof WebhookUpdated, { projectId: number; webhookId: number; changes: Partial<Omit<WebhookSettingsData, 'type'>> }> & {
  schemaVersion: 1;
};
export type WebhookDeletedV1 = DomainEvent<typeof WebhookDeleted, { projectId: number; webhookId: number }> & { schemaVersion: 1 };
export type WebhookHealthChangedV1 = DomainEvent<
  typeof WebhookHealthChanged,
  {
    projectId: number;
    webhookId: number;
    state: WebhookHealthState;
    consecutiveFailures: number;
    disabledUntil: string | null;
    lastError: string | null;
    /** What moved it: 'failures', 'gone' (410 or similar), 'test-succeeded', 'reactivated', 'attempt-succeeded'. */
    cause: string;
  }
> & { schemaVersion: 1 };

export type WebhookSecretsResealedV1 = DomainEvent<
  typeof WebhookSecretsResealed,
  { projectId: number; webhookId: number; keyId: string } & Pick<WebhookSettingsData, 'url' | 'urlDigest' | 'signingSecret' | 'previousSigningSecret' | 'headers'>
> & { schemaVersion: 1 };

export type WebhookEvent = WebhookCreatedV1 | WebhookUpdatedV1 | WebhookDeletedV1 | WebhookHealthChangedV1 | WebhookSecretsResealedV1;
