import type { DomainEvent } from '../event-store/event.js';
import { int, nullable, object, oneOf, str, type EventSchemas } from '../event-store/event-schema.js';
import { USER_ROLES, type Contact, type UserRole } from '../contract/users.js';

/** The roles and the contact handles are the API's too (contract/users.ts). */
export { USER_ROLES, type Contact, type UserRole };

export const UserCreated = 'user.created';
export const TokenIssued = 'user.token-issued';

export type UserCreatedV1 = DomainEvent<typeof UserCreated, { userId: number; name: string; email: string; role: UserRole }> & {
  schemaVersion: 1;
};
/** Only a hash of the token is ever recorded. */
export type TokenIssuedV1 = DomainEvent<typeof TokenIssued, { userId: number; tokenId: number; tokenHash: string }> & {
  schemaVersion: 1;
};

export const TokenRevoked = 'user.token-revoked';
export type TokenRevokedV1 = DomainEvent<typeof TokenRevoked, { userId: number; tokenId: number }> & { schemaVersion: 1 };

/** A token stored again under the current key (found under an older one while that was still in the key ring). */
export const TokenRehashed = 'user.token-rehashed';
export type TokenRehashedV1 = DomainEvent<typeof TokenRehashed, { userId: number; tokenId: number; tokenHash: string }> & { schemaVersion: 1 };

/** The user's contact handles (`Contact`), all of them as they are now. */
export const ContactSet = 'user.contact-set';
export type ContactSetV1 = DomainEvent<typeof ContactSet, { userId: number } & Contact> & { schemaVersion: 1 };

export type UserEvent = UserCreatedV1 | TokenIssuedV1 | TokenRevokedV1 | TokenRehashedV1 | ContactSetV1;

/** The data each user event holds at its current version. */
export const USER_EVENT_SCHEMAS: EventSchemas = {
  [UserCreated]: { schemaVersion: 1, data: object({ userId: int, name: str({ min: 1 }), email: str({ min: 1 }), role: oneOf(USER_ROLES) }) },
  [TokenIssued]: { schemaVersion: 1, data: object({ userId: int, tokenId: int, tokenHash: str({ min: 1 }) }) },
  [TokenRevoked]: { schemaVersion: 1, data: object({ userId: int, tokenId: int }) },
  [TokenRehashed]: { schemaVersion: 1, data: object({ userId: int, tokenId: int, tokenHash: str({ min: 1 }) }) },
  [ContactSet]: { schemaVersion: 1, data: object({ userId: int, phone: nullable(str({ min: 1 })), slackMemberId: nullable(str({ min: 1 })), wecomUserId: nullable(str({ min: 1 })) }) },
};
