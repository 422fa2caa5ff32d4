import { startTestApp, type TestApp } from './support/test-app.js';

describe('a fresh service', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('knows the bootstrap admin and refuses requests without a token', async () => {
    const me = await t.http.get('/api/users/me').set(t.auth).expect(200);
    expect(me.body).toMatchObject({ id: 2, role: 'ADMIN' });
    const anonymous = await t.http.get('/api/users/me').expect(401);
    expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('creates a project and reads it back', async () => {
    const created = await t.http.post('/api/projects').set(t.auth).send({ name: 'Demo' }).expect(201);
    expect(created.body).toMatchObject({ name: 'Demo', key: 'DEMO' });
    const read = await t.http.get(`/api/projects/${created.body.id}`).set(t.auth).expect(200);
    expect(read.body.name).toBe('Demo');
  });
});
