import { api } from '../support/api.js';
import { useTestApp } from '../support/test-app.js';

const SLACK = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';

describe('project membership and access', () => {
  const t = useTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'false' } });
  let a: ReturnType<typeof api>;
  let owner: { id: number; token: string };
  let dev: { id: number; token: string };
  let stranger: { id: number; token: string };
  let projectId: number;
  let issueId: number;
  let hookId: number;
  const as = (user: { token: string }) => ({ Authorization: `Bearer ${user.token}` });

  beforeAll(async () => {
    a = api(t);
    owner = await a.post('/api/users', { name: 'Olga Owner', email: 'olga@example.com' }, 201);
    dev = await a.post('/api/users', { name: 'Dan Dev', email: 'dan@example.com' }, 201);
    stranger = await a.post('/api/users', { name: 'Sam Stranger', email: 'sam@example.com' }, 201);
    projectId = (await t.http.post('/api/projects').set(as(owner)).send({ name: 'Owned' }).expect(201)).body.id;
    await t.http.put(`/api/projects/${projectId}/members/${dev.id}`).set(as(owner)).send({ role: 'DEVELOPER' }).expect(200);
    issueId = (await t.http.post(`/api/projects/${projectId}/issues`).set(as(dev)).send({ name: 'x', type: 'bb.issue.general' }).expect(201)).body.id;
    hookId = (await t.http.post(`/api/projects/${projectId}/webhooks`).set(as(owner)).send({ type: 'SLACK', name: 's', url: SLACK, activityTypes: ['bb.issue.create'] }).expect(201)).body.id;
  });

  it('makes the creator an OWNER and lists the members', async () => {
    const members = (await t.http.get(`/api/projects/${projectId}/members`).set(as(dev)).expect(200)).body;
    expect(members).toEqual([
      { userId: owner.id, name: 'Olga Owner', email: 'olga@example.com', role: 'OWNER' },
      { userId: dev.id, name: 'Dan Dev', email: 'dan@example.com', role: 'DEVELOPER' },
    ]);
  });

  it('hides a project and everything under it from non-members with 404', async () => {
    for (const [method, path] of [
      ['get', `/api/projects/${projectId}`],
      ['get', `/api/projects/${projectId}/issues`],
      ['get', `/api/issues/${issueId}`],
      ['get', `/api/issues/${issueId}/events`],
      ['post', `/api/issues/${issueId}/comments`],
      ['get', `/api/projects/${projectId}/webhooks`],
      ['get', `/api/projects/${projectId}/members`],
    ] as const) {
      const res = await t.http[method](path).set(as(stranger)).send({ content: 'hi' });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    // the same answer as for a project that does not exist
    expect((await t.http.get(`/api/projects/${projectId}`).set(as(stranger))).body.detail).toBe(`project ${projectId} not found`);
    expect((await t.http.get('/api/projects').set(as(stranger))).body.items).toEqual([]);
  });

  it('lets DEVELOPERs drive issues and read webhooks, but not manage them', async () => {
    await t.http.post(`/api/issues/${issueId}/comments`).set(as(dev)).send({ content: 'on it' }).expect(201);
    const hooks = (await t.http.get(`/api/projects/${projectId}/webhooks`).set(as(dev)).expect(200)).body;
    expect(hooks[0].url).toBe('https://hooks.slack.com/services/***');
    await t.http.get(`/api/projects/${projectId}/webhooks/${hookId}/url`).set(as(dev)).expect(403);
    await t.http.post(`/api/projects/${projectId}/webhooks`).set(as(dev)).send({ type: 'SLACK', name: 'd', url: `${SLACK}2`, activityTypes: ['bb.issue.create'] }).expect(403);
    await t.http.patch(`/api/projects/${projectId}/webhooks/${hookId}`).set(as(dev)).send({ name: 'mine' }).expect(403);
    await t.http.delete(`/api/projects/${projectId}/webhooks/${hookId}`).set(as(dev)).expect(403);
    await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/test`).set(as(dev)).expect(403);
    await t.http.patch(`/api/projects/${projectId}`).set(as(dev)).send({ name: 'renamed' }).expect(403);
    await t.http.put(`/api/projects/${projectId}/members/${stranger.id}`).set(as(dev)).send({ role: 'OWNER' }).expect(403);
  });

  it('lets OWNERs manage members, but never remove the last owner', async () => {
    await t.http.delete(`/api/projects/${projectId}/members/${owner.id}`).set(as(owner)).expect(409);
    await t.http.put(`/api/projects/${projectId}/members/${owner.id}`).set(as(owner)).send({ role: 'DEVELOPER' }).expect(409);
    await t.http.put(`/api/projects/${projectId}/members/999`).set(as(owner)).send({ role: 'DEVELOPER' }).expect(404);
    await t.http.put(`/api/projects/${projectId}/members/${stranger.id}`).set(as(owner)).send({ role: 'ADMIN' }).expect(400);
    await t.http.put(`/api/projects/${projectId}/members/${stranger.id}`).set(as(owner)).send({ role: 'DEVELOPER' }).expect(200);
    await t.http.get(`/api/issues/${issueId}`).set(as(stranger)).expect(200);
    await t.http.delete(`/api/projects/${projectId}/members/${stranger.id}`).set(as(owner)).expect(204);
    await t.http.get(`/api/issues/${issueId}`).set(as(stranger)).expect(404);
    // membership changes are events on the project's stream
    const feed = (await t.http.get('/api/events?limit=1000').set(t.auth)).body.map((e: { type: string }) => e.type);
    expect(feed.filter((type: string) => type.startsWith('project.member'))).toEqual(['project.member-set', 'project.member-set', 'project.member-removed']);
  });

  it('shows OWNERs who changed members and webhooks, secrets redacted', async () => {
    const audit = (await t.http.get(`/api/projects/${projectId}/audit?limit=200`).set(as(owner)).expect(200)).body;
    const byType = (type: string) => audit.items.filter((e: { type: string }) => e.type === type);
    expect(byType('project.created')[0]).toMatchObject({ actorId: owner.id });
    expect(byType('project.member-set')[0]).toMatchObject({ actorId: owner.id, data: { userId: dev.id, role: 'DEVELOPER' } });
    expect(byType('webhook.created')[0]).toMatchObject({ actorId: owner.id, data: { url: 'https://hooks.slack.com/services/***' } });
    expect(JSON.stringify(audit)).not.toContain('XXXXSECRET');
    const page = (await t.http.get(`/api/projects/${projectId}/audit?limit=1`).set(as(owner)).expect(200)).body;
    expect(page.items).toHaveLength(1);
    const next = (await t.http.get(`/api/projects/${projectId}/audit?limit=1&cursor=${page.nextCursor}`).set(as(owner)).expect(200)).body;
    expect(next.items[0].id).toBe(page.items[0].id + 1);
    await t.http.get(`/api/projects/${projectId}/audit`).set(as(dev)).expect(403);
    await t.http.get(`/api/projects/${projectId}/audit`).set(as(stranger)).expect(404);
  });

  it('shows the URL in clear to an OWNER who asks for it explicitly', async () => {
    expect((await t.http.get(`/api/projects/${projectId}/webhooks/${hookId}/url`).set(as(owner)).expect(200)).body).toEqual({ url: SLACK });
  });

  it('lets workspace admins into every project', async () => {
    await t.http.get(`/api/projects/${projectId}/webhooks`).set(t.auth).expect(200);
    await t.http.patch(`/api/projects/${projectId}/webhooks/${hookId}`).set(t.auth).send({ name: 'by admin' }).expect(200);
  });
});
