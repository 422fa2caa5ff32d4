import { api } from '../support/api.js';
import { useTestApp } from '../support/test-app.js';

describe('API tokens', () => {
  const t = useTestApp();
  let a: ReturnType<typeof api>;
  beforeAll(async () => {
    a = api(t);
  });

  it('issues extra tokens to a user, lists them without secrets, and revokes one at once', async () => {
    const user = await a.post('/api/users', { name: 'Tia', email: 'tia@example.com' }, 201);
    const as = (token: string) => ({ Authorization: `Bearer ${token}` });
    expect(user.token).toMatch(/^hrld_[A-Za-z0-9_-]{43}$/); // 256 random bits
    const second = (await t.http.post(`/api/users/${user.id}/tokens`).set(as(user.token)).expect(201)).body;
    expect(second).toEqual({ id: expect.any(Number), token: expect.stringMatching(/^hrld_/), createdAt: expect.any(String) });
    await t.http.get('/api/users/me').set(as(second.token)).expect(200);
    const listed = (await t.http.get(`/api/users/${user.id}/tokens`).set(as(user.token)).expect(200)).body;
    expect(listed.map((x: { id: number }) => x.id)).toHaveLength(2);
    expect(JSON.stringify(listed)).not.toContain(second.token);
    // the token was working a moment ago (and is in the auth cache); revoked, it stops at once
    await t.http.delete(`/api/users/${user.id}/tokens/${second.id}`).set(as(user.token)).expect(204);
    await t.http.get('/api/users/me').set(as(second.token)).expect(401);
    await t.http.get('/api/users/me').set(as(user.token)).expect(200);
    await t.http.delete(`/api/users/${user.id}/tokens/${second.id}`).set(as(user.token)).expect(404);
    // the log holds only hashes
    const feed = JSON.stringify((await t.http.get('/api/events?limit=1000').set(t.auth)).body);
    expect(feed).not.toContain(user.token);
    expect(feed).toContain('user.token-revoked');
  });

  it('keeps other users\' tokens out of reach of members, but not of admins', async () => {
    const one = await a.post('/api/users', { name: 'One', email: 'one@example.com' }, 201);
    const two = await a.post('/api/users', { name: 'Two', email: 'two@example.com' }, 201);
    await t.http.get(`/api/users/${two.id}/tokens`).set({ Authorization: `Bearer ${one.token}` }).expect(404);
    await t.http.post(`/api/users/${two.id}/tokens`).set({ Authorization: `Bearer ${one.token}` }).expect(404);
    const byAdmin = (await t.http.post(`/api/users/${two.id}/tokens`).set(t.auth).expect(201)).body;
    await t.http.get('/api/users/me').set({ Authorization: `Bearer ${byAdmin.token}` }).expect(200);
  });
});
