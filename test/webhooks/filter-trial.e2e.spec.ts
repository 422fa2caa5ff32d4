import { api } from '../support/api.js';
import { useTestApp } from '../support/test-app.js';

describe('POST /api/projects/{id}/webhooks/filter-trial tries a filter on the project’s last activities before it is saved', () => {
  const t = useTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'false' } });
  let a: ReturnType<typeof api>;
  let projectId: number;
  let issueId: number;
  const trial = (body: object, expected = 200) => a.post(`/api/projects/${projectId}/webhooks/filter-trial`, body, expected);

  beforeAll(async () => {
    a = api(t);
    projectId = (await a.createProject('Tried')).id;
    issueId = (await a.createIssue(projectId, { name: 'Ship the index' })).id;
    await a.comment(issueId, 'hello');
    await a.comment(issueId, 'ship it');
    await a.comment(issueId, 'shipped');
  });

  it('evaluates it on each activity, newest first, saying what it let through and the steps it used, and saves nothing', async () => {
    const before = await a.get(`/api/projects/${projectId}/webhooks`);
    const result = await trial({ filter: 'activity_type == "bb.issue.comment.create" && description.startsWith("ship")' });
    expect(result.budget).toBe(3_000_000);
    expect(result.worstCaseSteps).toBeGreaterThan(0);
    expect(result.worstCaseSteps).toBeLessThanOrEqual(result.budget);
    expect(result.items.map((i: { title: string; matched: boolean }) => [i.title, i.matched])).toEqual([
      ['Comment created - Ship the index', true],
      ['Comment created - Ship the index', true],
      ['Comment created - Ship the index', false],
      ['Issue created - Ship the index', false],
    ]);
    for (const item of result.items) {
      expect(item).toMatchObject({ issueId, position: expect.any(Number), occurredAt: expect.any(String), activityType: expect.stringMatching(/^bb\.issue\./) });
      expect(item.steps).toBeGreaterThan(0);
      expect(item.steps).toBeLessThanOrEqual(result.worstCaseSteps);
    }
    expect(await a.get(`/api/projects/${projectId}/webhooks`)).toEqual(before);
  });

  it('takes as many as asked', async () => {
    const result = await trial({ filter: 'true', limit: 2 });
    expect(result.items).toHaveLength(2);
    expect(result.items[0].position).toBeGreaterThan(result.items[1].position);
  });

  it('judges the filter as saving would: a 400 naming the position and the problem', async () => {
    const refused = await t.http.post(`/api/projects/${projectId}/webhooks/filter-trial`).set(t.auth).send({ filter: 'levle == "ERROR"' }).expect(400);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body.errors).toEqual([{ field: 'filter', message: expect.stringMatching(/^at position 0: .*levle/) }]);
    const costly = await t.http.post(`/api/projects/${projectId}/webhooks/filter-trial`).set(t.auth).send({ filter: 'description.split("").exists(c, c == "x")' }).expect(400);
    expect(costly.body.errors[0].message).toMatch(/^at position 0: .*over the budget of 3,000,000/);
    await t.http.post(`/api/projects/${projectId}/webhooks/filter-trial`).set(t.auth).send({ filter: 'true', limit: 51 }).expect(400);
  });

  it('is for the project’s owners, who set filters', async () => {
    const dev = await a.post('/api/users', { name: 'Dee Dev', email: 'dee@example.com' }, 201);
    await t.http.put(`/api/projects/${projectId}/members/${dev.id}`).set(t.auth).send({ role: 'DEVELOPER' }).expect(200);
    await t.http.post(`/api/projects/${projectId}/webhooks/filter-trial`).set({ Authorization: `Bearer ${dev.token}` }).send({ filter: 'true' }).expect(403);
  });
});
