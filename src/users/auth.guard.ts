import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SqliteEventStore } from '../event-store/sqlite-event-store.js';
import { forbidden, unauthorized } from '../shared/errors.js';
import type { AuthenticatedUser, HeraldRequest } from '../shared/request-context.js';
import { hashToken } from './user.aggregate.js';

const PUBLIC = 'herald:public';
const ADMIN_ONLY = 'herald:admin-only';

/** A route anyone may call (health, the bare benchmark route). */
export const Public = () => SetMetadata(PUBLIC, true);
/** A route only workspace admins may call. */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

/**
 * Bearer tokens on every route unless marked public. Known tokens are cached for a
 * few seconds (a lookup per request would cost more than the command it guards).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private static readonly CACHE_MS = 5000;
  private readonly cache = new Map<string, { user: AuthenticatedUser; until: number }>();

  constructor(
    private readonly reflector: Reflector,
    private readonly store: SqliteEventStore,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<HeraldRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S{1,512})$/i.exec(header) : null;
    if (!match) throw unauthorized('an Authorization: Bearer <token> header is required');
    const user = this.lookup(hashToken(match[1]));
    if (!user) throw unauthorized('the bearer token is not valid');
    request.user = user;
    if (this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets) && user.role !== 'ADMIN') {
      throw forbidden('this route is for workspace admins');
    }
    return true;
  }

  private lookup(hash: string): AuthenticatedUser | undefined {
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.user;
    const user = this.store.queryOne<AuthenticatedUser>(
      `SELECT u.id, u.name, u.email, u.role FROM rm_api_tokens t JOIN rm_users u ON u.id = t.user_id WHERE t.token_hash = ?`,
      [hash],
    );
    if (this.cache.size > 10_000) this.cache.clear();
    if (user) this.cache.set(hash, { user, until: now + AuthGuard.CACHE_MS });
    else this.cache.delete(hash);
    return user;
  }
}
