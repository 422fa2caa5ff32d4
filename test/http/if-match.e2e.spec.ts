import { api } from '../support/api.js';
import { useTestApp } from '../support/test-app.js';

/*
 * If-Match on every route that takes it (found in the OpenAPI document): `*` matches any current
 * representation (RFC 9110 §13.1.1), so the write proceeds; on a resource that does not exist
 * the answer stays 404. A stale entity tag is still 412 (test/issues/errors.e2e.spec.ts).
 */

type Method = 'post' | 'patch';

describe('If-Match: *', () => {
  const t = useTestApp();
  const ids: Record<string, number> = {};

  /** Each route with If-Match, in an order that walks one issue through its approval: the request, then what it changed. */
  const WRITES: { route: string; body?: object; changed: () => Promise<unknown> }[] = [
    { route: 'PATCH /api/projects/{projectId}', body: { name: 'Renamed by *' }, changed: async () => (await api(t).get(`/api/projects/${ids.projectId}`)).name },
    { route: 'PATCH /api/issues/{issueId}', body: { name: 'Renamed by *' }, changed: async () => (await api(t).get(`/api/issues/${ids.issueId}`)).name },
    { route: 'POST /api/issues/{issueId}/comments', body: { content: 'commented with *' }, changed: async () => (await api(t).get(`/api/issues/${ids.issueId}/comments`)).map((c: { content: string }) => c.content) },
    { route: 'PATCH /api/issues/{issueId}/comments/{commentId}', body: { content: 'edited with *' }, changed: async () => (await api(t).get(`/api/issues/${ids.issueId}/comments`)).map((c: { content: string }) => c.content) },
    { route: 'POST /api/issues/{issueId}/approval/send-back', body: { reason: 'sent back with *' }, changed: async () => (await api(t).get(`/api/issues/${ids.issueId}`)).approval.status },
    { route: 'POST /api/issues/{issueId}/approval/request', changed: async () => (await api(t).get(`/api/issues/${ids.issueId}`)).approval.status },
    { route: 'POST /api/issues/{issueId}/approval/approve', changed: async () => (await api(t).get(`/api/issues/${ids.issueId}`)).approval.status },
    { route: 'POST /api/issues/{issueId}/tasks/{taskId}/status', body: { status: 'PENDING' }, changed: async () => (await api(t).get(`/api/issues/${ids.issueId}`)).pipeline.stages[0].tasks[0].status },
    { route: 'POST /api/issues/{issueId}/status', body: { status: 'CANCELED' }, changed: async () => (await api(t).get(`/api/issues/${ids.issueId}`)).status },
  ];
  const EXPECTED = ['Renamed by *', 'Renamed by *', ['first', 'commented with *'], ['edited with *', 'commented with *'], 'SENT_BACK', 'PENDING', 'APPROVED', 'PENDING', 'CANCELED'];

  const send = (route: string, values: Record<string, number>, body: object | undefined) => {
    const [method, template] = route.split(' ');
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name]));
    const request = t.http[method.toLowerCase() as Method](path).set(t.auth).set('If-Match', '*');
    return body === undefined ? request : request.send(body);
  };

  beforeAll(async () => {
    const a = api(t);
    const admin = (await a.get('/api/users/me')).id;
    ids.projectId = (await a.createProject('Star')).id;
    const issue = await a.createIssue(ids.projectId, { pipeline: { stages: [{ name: 's', tasks: [{ name: 't' }] }] }, approval: { steps: [{ approvers: [admin] }] } });
    ids.issueId = issue.id;
    ids.taskId = issue.pipeline.stages[0].tasks[0].id;
    ids.commentId = (await a.comment(issue.id, 'first')).id;
  });

  it('covers every route the OpenAPI document gives an If-Match header', async () => {
    const document = (await t.http.get('/docs-json').expect(200)).body as { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> };
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, operation]) => (operation.parameters ?? []).some((p) => p.in === 'header' && p.name === 'If-Match'))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(WRITES.map((w) => w.route).sort());
  });

  it('lets the write proceed on every such route (the resource exists), with a new ETag', async () => {
    for (const [i, { route, body, changed }] of WRITES.entries()) {
      const res = await send(route, ids, body);
      expect({ route, status: res.status, problem: res.body.detail }).toEqual({ route, status: route.includes('/comments') && route.startsWith('POST') ? 201 : 200, problem: undefined });
      if (!route.includes('/comments')) expect({ route, etag: res.headers.etag }).toEqual({ route, etag: expect.stringMatching(/^W\/"\d+"$/) });
      expect({ route, now: await changed() }).toEqual({ route, now: EXPECTED[i] });
    }
  });

  it('answers 404 on every such route when the resource does not exist', async () => {
    const missing = { projectId: 999_999, issueId: 999_999, taskId: 999_999, commentId: 999_999 };
    for (const { route, body } of WRITES) {
      const res = await send(route, missing, body);
      expect({ route, status: res.status, type: res.headers['content-type'] }).toEqual({ route, status: 404, type: expect.stringMatching(/^application\/problem\+json/) });
    }
    // a comment that does not exist, on an issue that does
    const res = await send('PATCH /api/issues/{issueId}/comments/{commentId}', { ...ids, commentId: 999_999 }, { content: 'x' });
    expect(res.status).toBe(404);
  });
});
