import { LookupCache, OpenedApps, TokenCache } from '../../../src/webhooks/direct-messages/dm-caches.js';

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

describe('an app’s credentials and what was kept for them', () => {
  const unsealing = () => {
    const opened: string[] = [];
    return { opened, unseal: (sealed: string) => (opened.push(sealed), sealed.replace('sealed:', '')) };
  };

  it('are opened once per set, replaced (not kept beside) when the set changes, and dropped with the app', () => {
    const apps = new OpenedApps();
    const { opened, unseal } = unsealing();
    expect(apps.open(1, 'FEISHU', 'd1', { appSecret: 'sealed:one' }, unseal)).toEqual({ credentials: { appSecret: 'one' }, replaced: false });
    apps.open(1, 'FEISHU', 'd1', { appSecret: 'sealed:one' }, unseal);
    expect(opened).toEqual(['sealed:one']);
    expect(apps.open(1, 'FEISHU', 'd2', { appSecret: 'sealed:two' }, unseal)).toEqual({ credentials: { appSecret: 'two' }, replaced: true });
    // the first set is gone: back to it means opening it again, as a replacement
    expect(apps.open(1, 'FEISHU', 'd1', { appSecret: 'sealed:one' }, unseal).replaced).toBe(true);
    expect(apps.drop(1, 'FEISHU')).toBe(true);
    expect(apps.drop(1, 'FEISHU')).toBe(false);
    expect(apps.open(1, 'FEISHU', 'd1', { appSecret: 'sealed:one' }, unseal).replaced).toBe(false);
    expect(opened).toEqual(['sealed:one', 'sealed:two', 'sealed:one', 'sealed:one']);
  });

  it('drop the app’s tokens and look-ups, and only its own', async () => {
    const tokens = new TokenCache();
    const people = new LookupCache();
    let fetched = 0;
    const fetch = async () => ({ token: `t${++fetched}`, expiresAt: 3_600_000 });
    await tokens.get('1:FEISHU:d1', 0, fetch);
    await tokens.get('2:FEISHU:d9', 0, fetch);
    people.set('1:FEISHU:d1:alice@example.com', 'ou_a', 0);
    people.set('2:FEISHU:d9:alice@example.com', 'ou_b', 0);
    tokens.forget('1:FEISHU:');
    people.forget('1:FEISHU:');
    expect((await tokens.get('1:FEISHU:d1', 1, fetch)).fetched).toBe(true);
    expect((await tokens.get('2:FEISHU:d9', 1, fetch)).fetched).toBe(false);
    expect(people.get('1:FEISHU:d1:alice@example.com', 1)).toBeUndefined();
    expect(people.get('2:FEISHU:d9:alice@example.com', 1)).toEqual({ id: 'ou_b' });
  });
});
