import { api, twoStages } from '../support/api.js';
import { useTestApp } from '../support/test-app.js';

describe('documented errors', () => {
  const t = useTestApp();
  let a: ReturnType<typeof api>;
  let projectId: number;
  let issue: any;
  const headCount = async () => (await t.http.get('/api/events?limit=1000').set(t.auth).expect(200)).body.length;

  beforeAll(async () => {
    a = api(t);
    projectId = (await a.createProject('Errors')).id;
    issue = await a.createIssue(projectId, { pipeline: twoStages });
  });

  const expectProblem = (res: { status: number; headers: Record<string, string>; body: any }, status: number) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
  };

  it('400 names each bad field, nested ones included, and changes nothing', async () => {
    const before = await headCount();
    const res = await t.http
      .post(`/api/projects/${projectId}/issues`)
      .set(t.auth)
      .send({ name: '', type: 'bb.issue.unknown', pipeline: { stages: [{ name: 'x', tasks: [{ name: '' }] }, { name: 'y', tasks: [] }] } });
    expectProblem(res, 400);
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'type', 'pipeline.stages.0.tasks.0.name', 'pipeline.stages.1.tasks']));
    expect(await headCount()).toBe(before);
  });

  it('400 for unknown fields, a bad status, a bad id and a bad If-Match', async () => {
    const unknown = await t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).send({ content: 'x', admin: true });
    expectProblem(unknown, 400);
    expect(unknown.body.errors).toEqual([{ field: 'admin', message: 'property admin should not exist' }]);
    const status = await t.http.post(`/api/issues/${issue.id}/status`).set(t.auth).send({ status: 'CLOSED' });
    expectProblem(status, 400);
    expect(status.body.errors[0].field).toBe('status');
    expectProblem(await t.http.get('/api/issues/abc').set(t.auth), 400);
    const ifMatch = await t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).set('If-Match', 'banana').send({ content: 'x' });
    expectProblem(ifMatch, 400);
    expect(ifMatch.body.errors[0].field).toBe('If-Match');
    expectProblem(await t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).set('content-type', 'application/json').send('{"content": '), 400);
    expectProblem(await t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).send({ content: '' }), 400);
    expectProblem(await t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).send({ content: 'x'.repeat(65_537) }), 400);
    expect((await t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).send({ content: '€'.repeat(65_536) })).status).toBe(201);
    const assignee = await t.http.patch(`/api/issues/${issue.id}`).set(t.auth).send({ assigneeId: 999 });
    expectProblem(assignee, 400);
    expect(assignee.body.errors[0]).toEqual({ field: 'assigneeId', message: 'user 999 does not exist' });
  });

  it('401 without a token, with an unknown token, or with a malformed header', async () => {
    expectProblem(await t.http.get('/api/projects'), 401);
    expectProblem(await t.http.get('/api/projects').set('Authorization', 'Bearer nope'), 401);
    expectProblem(await t.http.get('/api/projects').set('Authorization', 'Basic YWRtaW46YWRtaW4='), 401);
  });

  it('403 for admin routes called by a member', async () => {
    const dev = await a.post('/api/users', { name: 'Member', email: 'member@example.com' }, 201);
    expectProblem(await t.http.get('/api/events').set('Authorization', `Bearer ${dev.token}`), 403);
    expectProblem(await t.http.post('/api/users').set('Authorization', `Bearer ${dev.token}`).send({ name: 'x', email: 'x@example.com' }), 403);
  });

  it('404 for unknown projects, issues, tasks and routes', async () => {
    expectProblem(await t.http.get('/api/projects/999').set(t.auth), 404);
    expectProblem(await t.http.get('/api/issues/999').set(t.auth), 404);
    expectProblem(await t.http.post('/api/projects/999/issues').set(t.auth).send({ name: 'x', type: 'bb.issue.general' }), 404);
    expectProblem(await t.http.post(`/api/issues/${issue.id}/tasks/999/status`).set(t.auth).send({ status: 'PENDING' }), 404);
    expectProblem(await t.http.get('/api/issues/999/events').set(t.auth), 404);
    expectProblem(await t.http.get('/api/nothing-here').set(t.auth), 404);
  });

  it('409 names the broken rule, for transitions, duplicate keys and duplicate emails', async () => {
    const taskId = issue.pipeline.stages[0].tasks[0].id;
    const res = await t.http.post(`/api/issues/${issue.id}/tasks/${taskId}/status`).set(t.auth).send({ status: 'FAILED' });
    expectProblem(res, 409);
    expect(res.body.detail).toMatch(/PENDING_APPROVAL to FAILED/);
    await a.createProject('Keyed', 'KEYED');
    expectProblem(await t.http.post('/api/projects').set(t.auth).send({ name: 'Again', key: 'KEYED' }), 409);
    expectProblem(await t.http.post('/api/users').set(t.auth).send({ name: 'Dup', email: 'member@example.com' }), 409);
  });

  it('412 for a stale If-Match, and nothing changes', async () => {
    const fresh = await a.createIssue(projectId);
    await a.comment(fresh.id, 'moves the version to 2');
    const stale = await t.http.patch(`/api/issues/${fresh.id}`).set(t.auth).set('If-Match', 'W/"1"').send({ name: 'stale write' });
    expectProblem(stale, 412);
    expect((await a.get(`/api/issues/${fresh.id}`)).name).toBe(fresh.name);
    const ok = await t.http.patch(`/api/issues/${fresh.id}`).set(t.auth).set('If-Match', 'W/"2"').send({ name: 'fresh write' }).expect(200);
    expect(ok.headers.etag).toBe('W/"3"');
  });

  it('413 for a body over 1 MiB', async () => {
    const res = await t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).set('content-type', 'application/json').send(JSON.stringify({ content: 'x'.repeat(1024 * 1024 + 10) }));
    expectProblem(res, 413);
  });
});
