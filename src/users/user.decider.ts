import type { Decider, DeciderContext } from '../event-store/decider.js';
import { forbidden, notFound } from '../shared/errors.js';
import { evolveUser, initialUserState, NO_CONTACT, type UserState } from './user.aggregate.js';
import { ContactSet, TokenIssued, TokenRehashed, TokenRevoked, UserCreated, type Contact, type UserEvent, type UserRole } from './user.events.js';

export type UserCommand =
  /** A user, with its first token (none for the System Bot) and contact handles. */
  | { kind: 'CreateUser'; userId: number; name: string; email: string; role: UserRole; token?: { tokenId: number; tokenHash: string }; contact: Contact }
  /** The handles as they are to be (the changes already applied to the current ones). */
  | { kind: 'SetContact'; contact: Contact }
  | { kind: 'IssueToken'; tokenId: number; tokenHash: string }
  | { kind: 'RevokeToken'; tokenId: number }
  /** A token stored again under the current key (found under an older one). */
  | { kind: 'RehashToken'; tokenId: number; tokenHash: string };

/** Decisions about a user (an email used twice is checked against the read model by the caller: it spans users). */
export function decideUser(command: UserCommand, state: UserState, _ctx: DeciderContext): UserEvent[] {
  const userId = state.id;
  switch (command.kind) {
    case 'CreateUser': {
      const { userId: id, name, email, role, token, contact } = command;
      const events: UserEvent[] = [{ type: UserCreated, schemaVersion: 1, data: { userId: id, name, email, role } }];
      if (token) events.push({ type: TokenIssued, schemaVersion: 1, data: { userId: id, ...token } });
      if (JSON.stringify(contact) !== JSON.stringify(NO_CONTACT)) events.push({ type: ContactSet, schemaVersion: 1, data: { userId: id, ...contact } });
      return events;
    }
    case 'SetContact':
      if (state.role === 'SYSTEM') throw forbidden('the System Bot has no contact handles');
      if (JSON.stringify(command.contact) === JSON.stringify(state.contact)) return [];
      return [{ type: ContactSet, schemaVersion: 1, data: { userId, ...command.contact } }];
    case 'IssueToken':
      if (state.role === 'SYSTEM') throw forbidden('the System Bot has no tokens');
      return [{ type: TokenIssued, schemaVersion: 1, data: { userId, tokenId: command.tokenId, tokenHash: command.tokenHash } }];
    case 'RevokeToken':
      if (!state.tokens.some((t) => t.id === command.tokenId)) throw notFound('token', command.tokenId);
      return [{ type: TokenRevoked, schemaVersion: 1, data: { userId, tokenId: command.tokenId } }];
    case 'RehashToken': {
      const { tokenId, tokenHash } = command;
      return state.tokens.some((t) => t.id === tokenId && t.hash !== tokenHash) ? [{ type: TokenRehashed, schemaVersion: 1, data: { userId, tokenId, tokenHash } }] : [];
    }
  }
}

export const userDecider: Decider<UserCommand, UserEvent, UserState> = {
  initialState: initialUserState,
  evolve: evolveUser,
  decide: decideUser,
};
