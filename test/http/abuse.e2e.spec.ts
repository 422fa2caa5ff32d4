import { useTestApp } from '../support/test-app.js';

describe('abuse resistance', () => {
  const t = useTestApp({ env: { HERALD_RATE_LIMIT_PER_MINUTE: '5' } });

  it('limits requests per token with 429, Retry-After and a problem body; other tokens are not affected', async () => {
    for (let i = 0; i < 5; i++) await t.http.get('/api/users/me').set(t.auth).expect(200);
    const limited = await t.http.get('/api/users/me').set(t.auth).expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toMatch(/^application\/(problem\+)?json/);
    expect(limited.body).toMatchObject({ status: 429, title: 'Too Many Requests', detail: expect.stringContaining('per minute') });
    // another caller has its own budget, and health checks are never limited
    await t.http.get('/api/users/me').set('Authorization', 'Bearer someone-else-entirely').expect(401);
    for (let i = 0; i < 8; i++) await t.http.get('/health/live').expect(200);
  });

  it('sends the usual security headers', async () => {
    const res = await t.http.get('/health/live');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBeDefined();
    expect(res.headers['strict-transport-security']).toBeDefined();
  });
});
