import { EventStore } from '../../src/event-store/event-store.js';
import { api } from '../support/api.js';
import { useTestApp } from '../support/test-app.js';

/*
 * A project holds at most HERALD_MAX_WEBHOOKS_PER_PROJECT webhooks (300 made a decisions page
 * 3.2 MB): one more is a 409 saying the cap and how to raise it, decided by the webhooks
 * aggregate on the project's stream, so concurrent creations cannot pass it together.
 */
describe('the cap of webhooks per project', () => {
  const t = useTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'false', HERALD_MAX_WEBHOOKS_PER_PROJECT: '3', HERALD_RATE_LIMIT_PER_MINUTE: '0' } });
  const create = (projectId: number, n: number) =>
    t.http.post(`/api/projects/${projectId}/webhooks`).set(t.auth).send({ type: 'CUSTOM', name: `hook ${n}`, url: `https://hooks.example.test/${projectId}/${n}`, activityTypes: ['bb.issue.create'] });
  const count = async (projectId: number) => (await api(t).get(`/api/projects/${projectId}/webhooks`)).length;
  const events = async () => (await t.app.get(EventStore).query<{ n: number }>(`SELECT COUNT(*) AS n FROM events`))[0].n;

  it('answers 409 problem+json for one more webhook, saying the cap and how to raise it, and records nothing', async () => {
    const projectId = (await api(t).createProject('Capped')).id;
    for (let n = 1; n <= 3; n++) await create(projectId, n).expect(201);
    const before = await events();
    const refused = await create(projectId, 4).expect(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({
      status: 409,
      detail: `project ${projectId} has 3 webhooks, the most a project may have (HERALD_MAX_WEBHOOKS_PER_PROJECT=3): delete one, or ask the operator to raise HERALD_MAX_WEBHOOKS_PER_PROJECT`,
    });
    expect(await events()).toBe(before);
    expect(await count(projectId)).toBe(3);
    // another project has a cap of its own; a deleted webhook frees its place
    const other = (await api(t).createProject('Other')).id;
    await create(other, 1).expect(201);
    const [first] = await api(t).get(`/api/projects/${projectId}/webhooks`);
    await t.http.delete(`/api/projects/${projectId}/webhooks/${first.id}`).set(t.auth).expect(204);
    await create(projectId, 5).expect(201);
  });

  it('lets exactly the cap through when creations race', async () => {
    const projectId = (await api(t).createProject('Raced')).id;
    const answers = await Promise.all(Array.from({ length: 12 }, (_, n) => create(projectId, n)));
    expect(answers.map((r) => r.status).sort()).toEqual([...Array(3).fill(201), ...Array(9).fill(409)]);
    expect(await count(projectId)).toBe(3);
  });

  it('documents the 409 on the route', async () => {
    const document = (await t.http.get('/docs-json').expect(200)).body;
    expect(document.paths['/api/projects/{projectId}/webhooks'].post.responses['409'].description).toMatch(/HERALD_MAX_WEBHOOKS_PER_PROJECT/);
  });
});
