import { api, twoStages } from '../support/api.js';
import { useTestApp } from '../support/test-app.js';

describe('concurrent writers', () => {
  // These writers contend for one stream's lock (or the project id sequence's): on PostgreSQL each waits for a
  // connection of the pool meanwhile, and on a busy machine that wait can pass the 5 s after which Herald answers
  // 503 (README: HERALD_PG_CONNECT_TIMEOUT_MS, tested as an outage elsewhere). What is tested here is that nothing
  // is lost or doubled, so the pool may wait as long as a request may.
  const t = useTestApp({ env: { HERALD_PG_CONNECT_TIMEOUT_MS: '30000' } });
  let a: ReturnType<typeof api>;
  beforeAll(async () => {
    a = api(t);
  });

  it('loses no update among 50 concurrent comment and field writes to one issue', async () => {
    const project = await a.createProject('Busy');
    const issue = await a.createIssue(project.id);
    const writes = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0
        ? t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).send({ content: `comment ${i}` })
        : t.http.patch(`/api/issues/${issue.id}`).set(t.auth).send({ description: `description ${i}` }),
    );
    const responses = await Promise.all(writes);
    expect(responses.map((r) => r.status).sort()).toEqual([...Array(25).fill(200), ...Array(25).fill(201)]);
    const events = await a.get(`/api/issues/${issue.id}/events`);
    expect(events).toHaveLength(51);
    expect(events.map((e: { version: number }) => e.version)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    const comments = await a.get(`/api/issues/${issue.id}/comments`);
    expect(comments.map((c: { content: string }) => c.content).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `comment ${i * 2}`).sort());
    const descriptions = events.filter((e: { type: string }) => e.type === 'issue.field-updated').map((e: { data: { to: string } }) => e.data.to);
    expect(new Set(descriptions).size).toBe(25);
    expect((await a.get(`/api/issues/${issue.id}`)).version).toBe(51);
  });

  it('keeps every accepted command when overlapping commands fail (409, 412, 404)', async () => {
    const project = await a.createProject('Mixed');
    const issue = await a.createIssue(project.id, { pipeline: twoStages });
    const taskId = issue.pipeline.stages[0].tasks[0].id;
    const requests = Array.from({ length: 60 }, (_, i) => {
      switch (i % 4) {
        case 0:
          return t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).send({ content: `kept ${i}` });
        case 1: // an illegal transition, refused inside the transaction
          return t.http.post(`/api/issues/${issue.id}/tasks/${taskId}/status`).set(t.auth).send({ status: 'FAILED' });
        case 2: // a stale version
          return t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).set('If-Match', 'W/"1"').send({ content: `stale ${i}` });
        default: // an unknown task
          return t.http.post(`/api/issues/${issue.id}/tasks/9999/status`).set(t.auth).send({ status: 'PENDING' });
      }
    });
    const responses = await Promise.all(requests);
    const accepted = responses.filter((r) => r.status === 201);
    expect(accepted).toHaveLength(15);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(15);
    expect(responses.filter((r) => r.status === 412)).toHaveLength(15);
    expect(responses.filter((r) => r.status === 404)).toHaveLength(15);
    const events = await a.get(`/api/issues/${issue.id}/events`);
    const stored = events.filter((e: { type: string }) => e.type === 'issue.comment-created').map((e: { data: { commentId: number } }) => e.data.commentId);
    expect(stored.sort()).toEqual(accepted.map((r) => r.body.id).sort());
  });

  it('allocates project ids without gaps or duplicates while half the creations fail', async () => {
    const before = (await a.get('/api/projects?limit=200')).items.length;
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => t.http.post('/api/projects').set(t.auth).send({ name: `p${i}`, key: i % 2 === 0 ? `K${i}` : 'SAMEKEY' })),
    );
    const created = responses.filter((r) => r.status === 201).map((r) => r.body.id).sort((x, y) => x - y);
    expect(created).toHaveLength(16); // 15 distinct keys + the first SAMEKEY
    expect(responses.filter((r) => r.status === 409)).toHaveLength(14);
    expect(created).toEqual(Array.from({ length: 16 }, (_, i) => created[0] + i));
    expect(created[0]).toBe(before + 1);
  });
});
