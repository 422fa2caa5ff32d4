import type { AccessToken } from './messenger.js';

/**
 * Access tokens, per IM app and set of credentials, in this process's memory only (never stored,
 * never logged): used until shortly before they expire, dropped when the vendor says one expired.
 * A token being fetched is shared by every attempt that needs it meanwhile (one fetch, not one per DM).
 */
export class TokenCache {
  /** Refreshed this long before the vendor's expiry (a fifth of a short-lived token's life at most). */
  static readonly MARGIN_MS = 5 * 60_000;
  private readonly tokens = new Map<string, { token: string; refreshAt: number }>();
  private readonly fetching = new Map<string, Promise<AccessToken>>();

  async get(key: string, now: number, fetch: () => Promise<AccessToken>): Promise<{ token: string; fetched: boolean }> {
    const cached = this.tokens.get(key);
    if (cached && now < cached.refreshAt) return { token: cached.token, fetched: false };
    let pending = this.fetching.get(key);
    if (!pending) {
      pending = fetch().finally(() => this.fetching.delete(key));
      this.fetching.set(key, pending);
    }
    const token = await pending;
    const life = token.expiresAt - now;
    this.tokens.set(key, { token: token.token, refreshAt: token.expiresAt - Math.min(TokenCache.MARGIN_MS, Math.max(0, life / 5)) });
    return { token: token.token, fetched: true };
  }

  /** The vendor said this token expired (or is invalid): the next `get` fetches another, unless one already replaced it. */
  expire(key: string, token: string): void {
    if (this.tokens.get(key)?.token === token) this.tokens.delete(key);
  }

  /** Drops the tokens of an app (keys starting with `prefix`): its credentials changed, or it was removed. */
  forget(prefix: string): void {
    for (const key of this.tokens.keys()) if (key.startsWith(prefix)) this.tokens.delete(key);
  }
}

/**
 * The IM apps' credentials in clear (in this process's memory only, never logged), one entry per
 * project and vendor: opened once per set of credentials, replaced when the set changes (its
 * digest), dropped when the app is removed, so no set outlives its app's configuration.
 */
export class OpenedApps {
  private readonly apps = new Map<string, { digest: string; credentials: Record<string, string> }>();

  /** The app's credentials in clear; `replaced`: another set was open for it (what was kept for that one goes too). */
  open(projectId: number, type: string, digest: string, sealed: Record<string, string>, unseal: (value: string) => string): { credentials: Record<string, string>; replaced: boolean } {
    const key = `${projectId}:${type}`;
    const open = this.apps.get(key);
    if (open?.digest === digest) return { credentials: open.credentials, replaced: false };
    const credentials = Object.fromEntries(Object.entries(sealed).map(([name, value]) => [name, unseal(value)]));
    this.apps.set(key, { digest, credentials });
    return { credentials, replaced: open !== undefined };
  }

  /** The app was removed: true when a set was open for it. */
  drop(projectId: number, type: string): boolean {
    return this.apps.delete(`${projectId}:${type}`);
  }
}

/**
 * People found by a vendor's look-up (an email, a phone), per IM app: kept for a bounded time
 * (a person may join or leave the workspace), and at most MAX entries (the oldest go first).
 * "Nobody" is kept too, for less long: a DM retried meanwhile falls back at once.
 */
export class LookupCache {
  static readonly MAX = 5_000;
  static readonly FOUND_MS = 60 * 60_000;
  static readonly NOBODY_MS = 10 * 60_000;
  private readonly entries = new Map<string, { id: string | null; reason?: string; until: number }>();

  /** The id found, or null with what the vendor said (`reason`). */
  get(key: string, now: number): { id: string | null; reason?: string } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.reason === undefined ? { id: entry.id } : { id: entry.id, reason: entry.reason };
  }

  /** Drops what an app found (keys starting with `prefix`). */
  forget(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  set(key: string, id: string | null, now: number, reason?: string): void {
    this.entries.delete(key);
    this.entries.set(key, { id, ...(reason === undefined ? {} : { reason }), until: now + (id === null ? LookupCache.NOBODY_MS : LookupCache.FOUND_MS) });
    if (this.entries.size > LookupCache.MAX) this.entries.delete(this.entries.keys().next().value!);
  }
}
