import { NO_CONTACT } from '../../src/users/user.aggregate.js';
import { userDecider } from '../../src/users/user.decider.js';
import type { UserEvent } from '../../src/users/user.events.js';
import { specification } from '../support/given.js';

const given = specification(userDecider, {});
const U = 5;
const created = (role: 'SYSTEM' | 'ADMIN' | 'MEMBER' = 'MEMBER'): UserEvent => ({ type: 'user.created', schemaVersion: 1, data: { userId: U, name: 'Ana', email: 'ana@example.com', role } });
const issued = (tokenId: number, tokenHash = `hash-${tokenId}`): UserEvent => ({ type: 'user.token-issued', schemaVersion: 1, data: { userId: U, tokenId, tokenHash } });
const contact = { phone: '+4915112345678', slackMemberId: 'U012AB3CD', wecomUserId: null };

describe('creating a user', () => {
  const command = { kind: 'CreateUser', userId: U, name: 'Ana', email: 'ana@example.com', role: 'MEMBER', contact: NO_CONTACT } as const;

  it('records the user and its first token', () =>
    given().when({ ...command, token: { tokenId: 9, tokenHash: 'hash-9' } }).then([created(), issued(9, 'hash-9')]));

  it('records the contact handles given', () =>
    given().when({ ...command, contact }).then([created(), { type: 'user.contact-set', schemaVersion: 1, data: { userId: U, ...contact } }]));

  it('records the System Bot without a token', () =>
    given().when({ ...command, role: 'SYSTEM' }).then([created('SYSTEM')]));
});

describe('contact handles', () => {
  it('records new handles', () =>
    given(created()).when({ kind: 'SetContact', contact }).then([{ type: 'user.contact-set', schemaVersion: 1, data: { userId: U, ...contact } }]));

  it('records nothing when they stay the same', () =>
    given(created(), { type: 'user.contact-set', schemaVersion: 1, data: { userId: U, ...contact } }).when({ kind: 'SetContact', contact }).thenNothingHappened());

  it('refuses handles for the System Bot', () => given(created('SYSTEM')).when({ kind: 'SetContact', contact }).thenThrows('forbidden', /System Bot has no contact handles/));
});

describe('tokens', () => {
  it('issues another token', () => given(created(), issued(9)).when({ kind: 'IssueToken', tokenId: 10, tokenHash: 'hash-10' }).then([issued(10)]));

  it('refuses a token for the System Bot', () => given(created('SYSTEM')).when({ kind: 'IssueToken', tokenId: 10, tokenHash: 'h' }).thenThrows('forbidden', /System Bot has no tokens/));

  it('revokes a token of the user', () =>
    given(created(), issued(9)).when({ kind: 'RevokeToken', tokenId: 9 }).then([{ type: 'user.token-revoked', schemaVersion: 1, data: { userId: U, tokenId: 9 } }]));

  it('refuses to revoke a token the user does not have (or no longer has)', () => {
    given(created(), issued(9)).when({ kind: 'RevokeToken', tokenId: 8 }).thenThrows('not-found', /token 8/);
    given(created(), issued(9), { type: 'user.token-revoked', schemaVersion: 1, data: { userId: U, tokenId: 9 } }).when({ kind: 'RevokeToken', tokenId: 9 }).thenThrows('not-found', /token 9/);
  });

  it('stores a token again under the current key', () =>
    given(created(), issued(9, 'old')).when({ kind: 'RehashToken', tokenId: 9, tokenHash: 'new' }).then([{ type: 'user.token-rehashed', schemaVersion: 1, data: { userId: U, tokenId: 9, tokenHash: 'new' } }]));

  it('records nothing when the token is stored under that hash already, or is gone', () => {
    given(created(), issued(9, 'new')).when({ kind: 'RehashToken', tokenId: 9, tokenHash: 'new' }).thenNothingHappened();
    given(created()).when({ kind: 'RehashToken', tokenId: 9, tokenHash: 'new' }).thenNothingHappened();
  });
});
