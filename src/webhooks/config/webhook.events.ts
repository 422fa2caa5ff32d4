import { WEBHOOK_STATES, type WebhookHealthState } from '../../contract/webhooks.js';
import type { DomainEvent } from '../../event-store/event.js';
import { arrayOf, bool, int, nullable, object, oneOf, recordOf, str, type Check, type EventSchemas } from '../../event-store/event-schema.js';
import { ACTIVITY_TYPES, type ActivityType } from '../activity.js';
import { WEBHOOK_TYPES, type WebhookType } from '../providers/registry.js';

/** A webhook's health states are the API's too (contract/webhooks.ts). */
export { WEBHOOK_STATES, type WebhookHealthState };

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
  /** What may be shown: scheme, host and the provider's fixed path prefix (see maskUrl). */
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
  /** A CEL expression an activity must pass (see filters/filter.ts); absent or null: none. */
  filter?: string | null;
  /** Chat webhooks: activities within the window go as one message (see coalesce/); absent: the provider's default. */
  coalesce?: { windowSeconds: number };
  /** Also tell the people an activity asks to act directly, through the project's IM app of the webhook's type; absent: no. */
  directMessage?: boolean;
}

/** Version 2: urlMasked hides the whole path but the provider's fixed prefix (see webhook.upcasters.ts). */
export type WebhookCreatedV2 = DomainEvent<typeof WebhookCreated, { projectId: number; webhookId: number } & WebhookSettingsData> & {
  schemaVersion: 2;
};
/** Version 2: urlMasked as in webhook.created 2; no null but for the secrets (see webhook.upcasters.ts). */
export type WebhookUpdatedV2 = DomainEvent<typeof WebhookUpdated, { projectId: number; webhookId: number; changes: Partial<Omit<WebhookSettingsData, 'type'>> }> & {
  schemaVersion: 2;
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

export type WebhookEvent = WebhookCreatedV2 | WebhookUpdatedV2 | WebhookDeletedV1 | WebhookHealthChangedV1 | WebhookSecretsResealedV1;

const ids = { projectId: int, webhookId: int };
const previousSecret = nullable(object({ secret: str(), until: str() }));
const settings: Record<Exclude<keyof WebhookSettingsData, 'type' | 'filter' | 'coalesce' | 'directMessage'>, Check> = {
  name: str({ min: 1 }),
  url: str({ min: 1 }),
  urlMasked: str({ min: 1 }),
  urlDigest: str({ min: 1 }),
  activityTypes: arrayOf(oneOf(ACTIVITY_TYPES)),
  active: bool,
  signingSecret: nullable(str()),
  previousSigningSecret: previousSecret,
  headers: recordOf(str()),
  ordered: bool,
};
/** Added after the first webhooks were written: absent from older events. */
const laterSettings: Record<'filter' | 'coalesce' | 'directMessage', Check> = {
  filter: nullable(str({ min: 1 })),
  coalesce: object({ windowSeconds: int }),
  directMessage: bool,
};

/** The data each webhook event holds at its current version (checked on append, and over the whole log at start). */
export const WEBHOOK_EVENT_SCHEMAS: EventSchemas = {
  [WebhookCreated]: { schemaVersion: 2, data: object({ ...ids, type: oneOf(WEBHOOK_TYPES), ...settings }, laterSettings) },
  [WebhookUpdated]: { schemaVersion: 2, data: object({ ...ids, changes: object({}, { ...settings, ...laterSettings }) }) },
  [WebhookDeleted]: { schemaVersion: 1, data: object(ids) },
  [WebhookHealthChanged]: {
    schemaVersion: 1,
    data: object({ ...ids, state: oneOf(WEBHOOK_STATES), consecutiveFailures: int, disabledUntil: nullable(str()), lastError: nullable(str()), cause: str() }),
  },
  [WebhookSecretsResealed]: {
    schemaVersion: 1,
    data: object({ ...ids, keyId: str(), url: settings.url, urlDigest: settings.urlDigest, signingSecret: settings.signingSecret, previousSigningSecret: previousSecret, headers: settings.headers }),
  },
};
