import type { TestApp } from './test-app.js';

/** Small helpers that drive the REST API the way a client would. */
export function api(t: TestApp) {
  const post = (path: string, body: unknown, expected = 200) => t.http.post(path).set(t.auth).send(body as object).expect(expected).then((r) => r.body);
  return {
    post,
    get: (path: string) => t.http.get(path).set(t.auth).expect(200).then((r) => r.body),
    createProject: (name = 'Demo', key?: string) => post('/api/projects', { name, ...(key ? { key } : {}) }, 201),
    createIssue: (projectId: number, body: Record<string, unknown> = {}) =>
      post(`/api/projects/${projectId}/issues`, { name: 'Add index', type: 'bb.issue.database.schema.update', ...body }, 201),
    task: (issueId: number, taskId: number, body: Record<string, unknown>, expected = 200) => post(`/api/issues/${issueId}/tasks/${taskId}/status`, body, expected),
    status: (issueId: number, body: Record<string, unknown>, expected = 200) => post(`/api/issues/${issueId}/status`, body, expected),
    comment: (issueId: number, content: string) => post(`/api/issues/${issueId}/comments`, { content }, 201),
  };
}

export const twoStages = { stages: [{ name: 'test', tasks: [{ name: 'db-test' }] }, { name: 'prod', tasks: [{ name: 'db-prod-1' }, { name: 'db-prod-2' }] }] };
