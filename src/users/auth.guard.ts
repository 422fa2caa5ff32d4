import { createHmac, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { AggregateStore } from '../event-store/aggregate-store.js';
import { USERS } from './user.aggregate.js';
import type { UserState } from './user.aggregate.js';
import type { UserEvent } from './user.events.js';
import { decideUser } from './user.decider.js';
import { Reflector } from '@nestjs/core';
import { EventStore } from '../event-store/event-store.js';
import { forbidden, notFound, unauthorized } from '../shared/errors.js';
import type { AuthenticatedUser, HeraldRequest } from '../http/request-context.js';
import { TokenRevocations } from './token-revocations.js';
import { SECRET_BOX, SecretBox } from '../shared/secret-box.js';
import { routeAccess, type ProjectAccess } from '../shared/route-access.js';

/**
 * Bearer tokens on every route unless marked public. Known tokens are cached for a
 * few seconds (a lookup per request would cost more than the command it guards).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private static readonly CACHE_MS = 5000;
  private readonly cache = new Map<string, { user: AuthenticatedUser; until: number; generation: number }>();
  private readonly cacheKey = randomBytes(32);
  private readonly logger = new Logger('AuthGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly store: EventStore,
    private readonly revocations: TokenRevocations,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    @Inject(USERS) private readonly users: AggregateStore<UserState, UserEvent>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = routeAccess(this.reflector, [context.getHandler(), context.getClass()]);
    if (access.public) return true;
    const request = context.switchToHttp().getRequest<HeraldRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S{1,512})$/i.exec(header) : null;
    if (!match) throw unauthorized('an Authorization: Bearer <token> header is required');
    const user = await this.lookup(match[1]);
    if (!user) throw unauthorized('the bearer token is not valid');
    request.user = user;
    if (access.adminOnly && user.role !== 'ADMIN') throw forbidden('this route is for workspace admins');
    if (access.project && user.role !== 'ADMIN') await this.checkProject(request, user, access.project);
    return true;
  }

  /** A token found under an older key (or unkeyed) is stored again under the current key, so the old key can go. */
  private rehash(userId: number, tokenId: number, tokenHash: string): void {
    this.users
      .update(userId, { metadata: { actorId: userId, correlationId: `rehash-token-${tokenId}` } }, (state, { now }) =>
        decideUser({ kind: 'RehashToken', tokenId, tokenHash }, state, { now, actorId: userId }),
      )
      .catch((error) => this.logger.error({ err: error, userId, tokenId }, 'could not store a token under the current key'));
  }

  private async checkProject(request: HeraldRequest, user: AuthenticatedUser, access: ProjectAccess): Promise<void> {
    const params = request.params ?? {};
    let projectId = Number(params.projectId);
    let hidden = notFound('project', params.projectId ?? '?');
    if (params.projectId === undefined && params.issueId !== undefined) {
      if (!/^\d{1,15}$/.test(params.issueId)) return; // a malformed id: the route's own validation answers 400
      hidden = notFound('issue', params.issueId);
      const issue = await this.store.queryOne<{ project_id: number }>(`SELECT project_id FROM rm_issues WHERE id = ?`, [Number(params.issueId)]);
      if (!issue) throw hidden;
      projectId = issue.project_id;
    }
    if (!Number.isInteger(projectId)) return; // a malformed id: the route's own validation answers 400
    const member = await this.store.queryOne<{ role: string }>(`SELECT role FROM rm_project_members WHERE project_id = ? AND user_id = ?`, [projectId, user.id]);
    if (!member) throw hidden;
    if (access === 'owner' && member.role !== 'OWNER') throw forbidden(`only the project's owners may do this (you are ${member.role})`);
  }

  /**
   * Tokens are stored as keyed hashes: the presented token is hashed the ways it may have
   * been stored and looked up by those hashes. The cache is keyed by a hash under a key
   * that lives only in this process.
   */
  private async lookup(token: string): Promise<AuthenticatedUser | undefined> {
    const now = Date.now();
    const cacheKey = createHmac('sha256', this.cacheKey).update(token).digest('base64url');
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > now && hit.generation === this.revocations.generation) return hit.user;
    const candidates = this.box.tokenHashCandidates(token);
    const row = await this.store.queryOne<AuthenticatedUser & { tokenId: number; tokenHash: string }>(
      `SELECT u.id, u.name, u.email, u.role, t.token_id AS "tokenId", t.token_hash AS "tokenHash" FROM rm_api_tokens t JOIN rm_users u ON u.id = t.user_id
       WHERE t.token_hash IN (${candidates.map(() => '?').join(', ')})`,
      candidates,
    );
    const user = row ? { id: row.id, name: row.name, email: row.email, role: row.role } : undefined;
    if (row && row.tokenHash !== candidates[0]) this.rehash(row.id, row.tokenId, candidates[0]);
    if (this.cache.size > 10_000) this.cache.clear();
    if (user) this.cache.set(cacheKey, { user, until: now + AuthGuard.CACHE_MS, generation: this.revocations.generation });
    else this.cache.delete(cacheKey);
    return user;
  }
}
