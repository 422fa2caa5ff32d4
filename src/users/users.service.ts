import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../config/config.js';
import type { AggregateStore, Metadata } from '../event-store/aggregate-store.js';
import { USERS } from './user.aggregate.js';
import { EventStore } from '../event-store/event-store.js';
import { conflict, notFound } from '../shared/errors.js';
import { TokenRevocations } from './token-revocations.js';
import { generateToken, SYSTEM_BOT_ID, type UserState } from './user.aggregate.js';
import { SECRET_BOX, SecretBox } from '../shared/secret-box.js';
import type { Contact, UserEvent, UserRole } from './user.events.js';
import { decideUser } from './user.decider.js';
import { applyContact } from './contact.dto.js';
import { initialUserState, NO_CONTACT } from './user.aggregate.js';
import type { UserView } from '../contract/users.js';

/** The API's view of a user (contract/users.ts, shared with the console). */
export type { UserView };

interface UserRow {
  id: number;
  name: string;
  email: string;
  role: UserRole;
  phone: string | null;
  slack_member_id: string | null;
  wecom_user_id: string | null;
  created_at: string;
}

@Injectable()
export class UsersService {
  constructor(
    @Inject(USERS) private readonly users: AggregateStore<UserState, UserEvent>,
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly revocations: TokenRevocations,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  /**
   * On an empty database: the System Bot (user 1) and the first admin with its token.
   * Returns the admin token only when it was created now, so it is printed once. Each
   * step is skipped when done already, so a start interrupted half-way finishes it;
   * instances starting together run this one at a time (see createApp).
   */
  async bootstrap(): Promise<{ adminToken: string; generated: boolean } | undefined> {
    const system: Metadata = { actorId: SYSTEM_BOT_ID, correlationId: 'bootstrap' };
    if (!(await this.store.queryOne(`SELECT 1 FROM events WHERE stream_id = ?`, [this.users.streamId(SYSTEM_BOT_ID)]))) {
      await this.users.create({ ids: { user: 1 }, idSequence: 'user', metadata: system }, ({ ids, now }) =>
        decideUser(
          { kind: 'CreateUser', userId: ids.user[0], name: this.config.brand, email: this.config.botEmail, role: 'SYSTEM', contact: NO_CONTACT },
          initialUserState,
          { now, actorId: system.actorId },
        ),
      );
    }
    if (await this.store.queryOne(`SELECT 1 FROM rm_users WHERE role = 'ADMIN'`)) return undefined;
    const token = this.config.adminToken ?? generateToken();
    await this.createUser({ name: 'Admin', email: 'admin@herald.local', role: 'ADMIN' }, system, token);
    return { adminToken: token, generated: !this.config.adminToken };
  }

  async createUser(input: { name: string; email: string; role: 'ADMIN' | 'MEMBER' } & Partial<Contact>, metadata: Metadata, token = generateToken()) {
    const email = input.email.toLowerCase();
    const committed = await this.users.create({ ids: { user: 1, token: 1 }, idSequence: 'user', metadata }, async ({ ids, now }, tx) => {
      if (await tx.get(`SELECT 1 FROM rm_users WHERE email = ?`, [email])) throw conflict(`a user with email ${email} already exists`);
      const command = {
        kind: 'CreateUser',
        userId: ids.user[0],
        name: input.name,
        email,
        role: input.role,
        token: { tokenId: ids.token[0], tokenHash: this.box.tokenHash(token) },
        contact: applyContact(NO_CONTACT, input),
      } as const;
      return decideUser(command, initialUserState, { now, actorId: metadata.actorId });
    });
    const s = committed.state;
    return { id: s.id, name: s.name, email: s.email, role: s.role, ...s.contact, createdAt: s.createdAt, token };
  }

  /** Changes the user's contact handles (absent: kept; null: removed); a change that changes nothing records nothing. */
  async setContact(userId: number, changes: Partial<Contact>, metadata: Metadata): Promise<UserView> {
    await this.users.update(userId, { metadata }, (state, { now }) =>
      decideUser({ kind: 'SetContact', contact: applyContact(state.contact, changes) }, state, { now, actorId: metadata.actorId }),
    );
    return (await this.get(userId))!;
  }

  /** A new token for a user, shown once. */
  async issueToken(userId: number, metadata: Metadata): Promise<{ id: number; token: string; createdAt: string }> {
    const token = generateToken();
    const { events } = await this.users.update(userId, { metadata, ids: { token: 1 } }, (state, { ids, now }) =>
      decideUser({ kind: 'IssueToken', tokenId: ids.token[0], tokenHash: this.box.tokenHash(token) }, state, { now, actorId: metadata.actorId }),
    );
    return { id: (events[0].data as { tokenId: number }).tokenId, token, createdAt: events[0].occurredAt };
  }

  async listTokens(userId: number): Promise<{ id: number; createdAt: string }[]> {
    if (!(await this.get(userId))) throw notFound('user', userId);
    return this.store.query<{ id: number; createdAt: string }>(`SELECT token_id AS id, created_at AS "createdAt" FROM rm_api_tokens WHERE user_id = ? ORDER BY token_id`, [userId]);
  }

  /** Revokes a token: it stops working at once in this process (and within the auth cache's few seconds elsewhere). */
  async revokeToken(userId: number, tokenId: number, metadata: Metadata): Promise<void> {
    await this.users.update(userId, { metadata }, (state, { now }) => decideUser({ kind: 'RevokeToken', tokenId }, state, { now, actorId: metadata.actorId }));
    this.revocations.revoked();
  }

  async get(id: number): Promise<UserView | undefined> {
    const row = await this.store.queryOne<UserRow>(`SELECT * FROM rm_users WHERE id = ?`, [id]);
    if (!row) return undefined;
    // the System Bot is named after the configured brand, whatever it was when first stored
    const bot = row.id === SYSTEM_BOT_ID;
    return {
      id: row.id,
      name: bot ? this.config.brand : row.name,
      email: bot ? this.config.botEmail : row.email,
      role: row.role,
      phone: row.phone,
      slackMemberId: row.slack_member_id,
      wecomUserId: row.wecom_user_id,
      createdAt: row.created_at,
    };
  }
}
