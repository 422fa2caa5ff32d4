import type { DomainEvent } from '../event-store/event.js';
import { int, object, oneOf, str, type EventSchemas } from '../event-store/event-schema.js';

export const USER_ROLES = ['SYSTEM', 'ADMIN', 'MEMBER'] as const;
export type UserRole = (typeof USER_ROLES)[number];

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

export type UserEvent = UserCreatedV1 | TokenIssuedV1 | TokenRevokedV1 | TokenRehashedV1;

/** The data each user event holds at its current version. */
export const USER_EVENT_SCHEMAS: EventSchemas = {
  [UserCreated]: { schemaVersion: 1, data: object({ userId: int, name: str({ min: 1 }), email: str({ min: 1 }), role: oneOf(USER_ROLES) }) },
  [TokenIssued]: { schemaVersion: 1, data: object({ userId: int, tokenId: int, tokenHash: str({ min: 1 }) }) },
  [TokenRevoked]: { schemaVersion: 1, data: object({ userId: int, tokenId: int }) },
  [TokenRehashed]: { schemaVersion: 1, data: object({ userId: int, tokenId: int, tokenHash: str({ min: 1 }) }) },
};
