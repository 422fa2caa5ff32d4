import { useTestApp } from './support/test-app.js';

describe('a fresh service', () => {
  const t = useTestApp();

  it('knows the bootstrap admin and refuses requests without a token', async () => {
    const me = await t.http.get('/api/users/me').set(t.auth).expect(200);
    expect(me.body).toMatchObject({ id: 2, role: 'ADMIN' });
    const anonymous = await t.http.get('/api/users/me').expect(401);
    expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('names every response by its request id, keeping the caller\'s, and records it as the correlation id', async () => {
    const fresh = await t.http.get('/health/live');
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const given = await t.http.post('/api/projects').set(t.auth).set('x-request-id', 'deploy-42.step-3').send({ name: 'Traced' }).expect(201);
    expect(given.headers['x-request-id']).toBe('deploy-42.step-3');
    const events = (await t.http.get('/api/events?limit=1000').set(t.auth)).body as { type: string; metadata: { correlationId: string } }[];
    expect(events.filter((e) => e.type === 'project.created').at(-1)!.metadata.correlationId).toBe('deploy-42.step-3');
    const hostile = await t.http.get('/health/live').set('x-request-id', 'x'.repeat(500));
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('creates a project and reads it back', async () => {
    const created = await t.http.post('/api/projects').set(t.auth).send({ name: 'Demo' }).expect(201);
    expect(created.body).toMatchObject({ name: 'Demo', key: 'DEMO' });
    const read = await t.http.get(`/api/projects/${created.body.id}`).set(t.auth).expect(200);
    expect(read.body.name).toBe('Demo');
  });
});
