import { randomBytes } from 'node:crypto';
import type { AggregateDefinition, Projection } from '../event-store/aggregate-store.js';
import type { Evolving, RecordedEvent, SqlWrite } from '../event-store/event.js';
import {
  ContactSet,
  TokenIssued,
  TokenRehashed,
  TokenRevoked,
  USER_EVENT_SCHEMAS,
  UserCreated,
  type Contact,
  type TokenIssuedV1,
  type TokenRehashedV1,
  type TokenRevokedV1,
  type UserEvent,
  type UserRole,
} from './user.events.js';

export const SYSTEM_BOT_ID = 1;

export interface UserState {
  exists: boolean;
  id: number;
  name: string;
  email: string;
  role: UserRole;
  tokens: { id: number; hash: string; issuedAt: string }[];
  contact: Contact;
  createdAt: string;
  updatedAt: string;
}

export const NO_CONTACT: Contact = { phone: null, slackMemberId: null, wecomUserId: null };

export const initialUserState: UserState = {
  exists: false,
  id: 0,
  name: '',
  email: '',
  role: 'MEMBER',
  tokens: [],
  contact: NO_CONTACT,
  createdAt: '',
  updatedAt: '',
};

export function evolveUser(state: UserState, event: Evolving<UserEvent>): UserState {
  switch (event.type) {
    case UserCreated:
      return {
        exists: true,
        id: event.data.userId,
        name: event.data.name,
        email: event.data.email,
        role: event.data.role,
        tokens: [],
        contact: NO_CONTACT,
        createdAt: event.occurredAt,
        updatedAt: event.occurredAt,
      };
    case TokenIssued:
      return { ...state, tokens: [...state.tokens, { id: event.data.tokenId, hash: event.data.tokenHash, issuedAt: event.occurredAt }] };
    case TokenRevoked:
      return { ...state, tokens: state.tokens.filter((t) => t.id !== event.data.tokenId) };
    case ContactSet: {
      const { phone, slackMemberId, wecomUserId } = event.data;
      return { ...state, contact: { phone, slackMemberId, wecomUserId }, updatedAt: event.occurredAt };
    }
    case TokenRehashed: {
      const { tokenId, tokenHash } = event.data;
      return { ...state, tokens: state.tokens.map((t) => (t.id === tokenId ? { ...t, hash: tokenHash } : t)) };
    }
    default:
      return state;
  }
}

/** A bearer token: 256 random bits, shown once, stored only as a hash. */
export function generateToken(): string {
  return `hrld_${randomBytes(32).toString('base64url')}`;
}

/** rm_users: one row per user, mirroring its state. */
function userRow(state: UserState): SqlWrite[] {
  return [
    {
      sql: `INSERT INTO rm_users (id, name, email, role, phone, slack_member_id, wecom_user_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, role = excluded.role, phone = excluded.phone,
          slack_member_id = excluded.slack_member_id, wecom_user_id = excluded.wecom_user_id, updated_at = excluded.updated_at`,
      params: [state.id, state.name, state.email, state.role, state.contact.phone, state.contact.slackMemberId, state.contact.wecomUserId, state.createdAt, state.updatedAt],
    },
  ];
}

/** rm_api_tokens: one row per live token, by its events. */
function tokenRows(event: RecordedEvent<UserEvent>): SqlWrite[] {
  if (event.type === TokenRehashed) {
    const d = event.data as TokenRehashedV1['data'];
    return [{ sql: `UPDATE rm_api_tokens SET token_hash = ? WHERE token_id = ?`, params: [d.tokenHash, d.tokenId] }];
  }
  if (event.type === TokenRevoked) return [{ sql: `DELETE FROM rm_api_tokens WHERE token_id = ?`, params: [(event.data as TokenRevokedV1['data']).tokenId] }];
  if (event.type !== TokenIssued) return [];
  const d = event.data as TokenIssuedV1['data'];
  return [{ sql: `INSERT INTO rm_api_tokens (token_hash, token_id, user_id, created_at) VALUES (?, ?, ?, ?)`, params: [d.tokenHash, d.tokenId, d.userId, event.occurredAt] }];
}

export const usersReadModel: Projection<UserState, UserEvent> = { table: 'rm_users', fromState: userRow };
export const apiTokensReadModel: Projection<UserState, UserEvent> = { table: 'rm_api_tokens', fromEvent: tokenRows };

/** The AggregateStore of user streams (provided by EventStoreModule from src/domain.ts). */
export const USERS = Symbol('USERS');

export const userAggregate: AggregateDefinition<UserState, UserEvent> = {
  kind: 'user',
  initialState: initialUserState,
  evolve: evolveUser,
  projections: [usersReadModel, apiTokensReadModel],
  allocatedIds: (event) =>
    event.type === UserCreated ? [['user', event.data.userId]] : event.type === TokenIssued ? [['token', event.data.tokenId]] : [],
  schemas: USER_EVENT_SCHEMAS,
};
