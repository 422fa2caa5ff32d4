import { LookupCache, TokenCache } from '../../../src/webhooks/direct-messages/dm-caches.js';

describe('the access token cache', () => {
  const HOUR = 3_600_000;

  it('keeps a token until shortly before it expires, then fetches another', async () => {
    const cache = new TokenCache();
    let fetches = 0;
    const fetch = async () => ({ token: `t${++fetches}`, expiresAt: 2 * HOUR });
    expect(await cache.get('app', 0, fetch)).toEqual({ token: 't1', fetched: true });
    expect(await cache.get('app', 2 * HOUR - TokenCache.MARGIN_MS - 1, fetch)).toEqual({ token: 't1', fetched: false });
    expect(await cache.get('app', 2 * HOUR - TokenCache.MARGIN_MS, fetch)).toEqual({ token: 't2', fetched: true });
  });

  it('refreshes a short-lived token a fifth of its life early', async () => {
    const cache = new TokenCache();
    let fetches = 0;
    const fetch = async () => ({ token: `t${++fetches}`, expiresAt: 100_000 });
    await cache.get('app', 0, fetch);
    expect((await cache.get('app', 79_999, fetch)).token).toBe('t1');
    expect((await cache.get('app', 80_000, fetch)).token).toBe('t2');
  });

  it('fetches once for every attempt waiting at the same time', async () => {
    const cache = new TokenCache();
    let fetches = 0;
    let release!: () => void;
    const fetch = () => new Promise<{ token: string; expiresAt: number }>((resolve) => (release = () => resolve({ token: `t${++fetches}`, expiresAt: HOUR })));
    const waiting = [cache.get('app', 0, fetch), cache.get('app', 0, fetch), cache.get('app', 0, fetch)];
    release();
    expect((await Promise.all(waiting)).map((r) => r.token)).toEqual(['t1', 't1', 't1']);
    expect(fetches).toBe(1);
  });

  it('drops a token the vendor called expired, but not one that already replaced it', async () => {
    const cache = new TokenCache();
    let fetches = 0;
    const fetch = async () => ({ token: `t${++fetches}`, expiresAt: HOUR });
    await cache.get('app', 0, fetch);
    cache.expire('app', 't1');
    expect((await cache.get('app', 1, fetch)).token).toBe('t2');
    cache.expire('app', 't1'); // a late answer about the old token
    expect((await cache.get('app', 2, fetch)).token).toBe('t2');
  });

  it('keeps tokens per app and set of credentials', async () => {
    const cache = new TokenCache();
    await cache.get('1:FEISHU:a', 0, async () => ({ token: 'a', expiresAt: HOUR }));
    expect((await cache.get('1:FEISHU:b', 0, async () => ({ token: 'b', expiresAt: HOUR }))).token).toBe('b');
  });
});

describe('the look-up cache', () => {
  it('keeps a person found for an hour, and nobody for ten minutes', () => {
    const cache = new LookupCache();
    cache.set('a', 'U1', 0);
    cache.set('b', null, 0);
    expect(cache.get('a', LookupCache.FOUND_MS - 1)).toEqual({ id: 'U1' });
    expect(cache.get('b', LookupCache.NOBODY_MS - 1)).toEqual({ id: null });
    expect(cache.get('b', LookupCache.NOBODY_MS)).toBeUndefined();
    expect(cache.get('a', LookupCache.FOUND_MS)).toBeUndefined();
  });

  it('holds at most MAX people, the oldest going first', () => {
    const cache = new LookupCache();
    for (let i = 0; i <= LookupCache.MAX; i++) cache.set(`p${i}`, `U${i}`, 0);
    expect(cache.get('p0', 1)).toBeUndefined();
    expect(cache.get('p1', 1)).toEqual({ id: 'U1' });
    expect(cache.get(`p${LookupCache.MAX}`, 1)).toEqual({ id: `U${LookupCache.MAX}` });
  });
});
