import type { DomainEvent } from '../../event-store/event.js';
import { nullable, object, oneOf, recordOf, str, int, type EventSchemas } from '../../event-store/event-schema.js';
import { IM_APP_TYPES, type ImAppType } from './im-app-types.js';

/** A project's IM apps live on its stream, beside its webhooks (audited there). */
export const ImAppSet = 'im-app.set';
export const ImAppRemoved = 'im-app.removed';
/** The app's credentials sealed again under the current key (key rotation). */
export const ImAppSecretsResealed = 'im-app.secrets-resealed';

/** Credentials are stored sealed (see SecretBox): the log and the read model never hold them in clear. */
export type ImAppSetV1 = DomainEvent<
  typeof ImAppSet,
  {
    projectId: number;
    type: ImAppType;
    /** null: the vendor's public API. */
    apiBase: string | null;
    /** Values sealed. */
    credentials: Record<string, string>;
    /** A keyed digest of the credentials: tokens cached for other credentials are not used. */
    credentialsDigest: string;
  }
> & { schemaVersion: 1 };
export type ImAppRemovedV1 = DomainEvent<typeof ImAppRemoved, { projectId: number; type: ImAppType }> & { schemaVersion: 1 };

export type ImAppSecretsResealedV1 = DomainEvent<
  typeof ImAppSecretsResealed,
  { projectId: number; type: ImAppType; keyId: string; credentials: Record<string, string>; credentialsDigest: string }
> & { schemaVersion: 1 };

export type ImAppEvent = ImAppSetV1 | ImAppRemovedV1 | ImAppSecretsResealedV1;

export const IM_APP_EVENT_SCHEMAS: EventSchemas = {
  [ImAppSet]: {
    schemaVersion: 1,
    data: object({ projectId: int, type: oneOf(IM_APP_TYPES), apiBase: nullable(str({ min: 1 })), credentials: recordOf(str({ min: 1 })), credentialsDigest: str({ min: 1 }) }),
  },
  [ImAppRemoved]: { schemaVersion: 1, data: object({ projectId: int, type: oneOf(IM_APP_TYPES) }) },
  [ImAppSecretsResealed]: {
    schemaVersion: 1,
    data: object({ projectId: int, type: oneOf(IM_APP_TYPES), keyId: str({ min: 1 }), credentials: recordOf(str({ min: 1 })), credentialsDigest: str({ min: 1 }) }),
  },
};
