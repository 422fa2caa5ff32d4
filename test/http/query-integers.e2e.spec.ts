import { api } from '../support/api.js';
import { useTestApp } from '../support/test-app.js';

/*
 * Integers in query strings are plain decimal digits: no exponent (`1e2` was read as 100), no
 * sign, fraction, spaces, `0x`, leading zeros or other scripts' digits; else a 400 naming the
 * parameter. The parameters are found in the OpenAPI document, so a new one is covered too;
 * the numeric parts of cursors follow the same rule.
 */

const NOT_PLAIN = ['1e2', '1E1', '+5', '-0', ' 5', '5 ', '0x10', '1.0', '5.', '.5', '050', '', '٥', '5_0', 'Infinity', '5abc'];

describe('integers in query strings', () => {
  const t = useTestApp();
  const values: Record<string, number> = {};
  let parameters: { route: string; path: string; name: string; minimum: number; maximum?: number }[];
  const problem = (res: { status: number; headers: Record<string, string> }) => ({ status: res.status, type: res.headers['content-type']?.split(';')[0] });

  beforeAll(async () => {
    const a = api(t);
    values.projectId = (await a.createProject('Query')).id;
    values.issueId = (await a.createIssue(values.projectId)).id;
    await a.comment(values.issueId, 'one more event');
    values.webhookId = (await a.post(`/api/projects/${values.projectId}/webhooks`, { type: 'CUSTOM', name: 'q', url: 'https://hooks.example.test/q', activityTypes: ['bb.issue.create'] }, 201)).id;
    type Parameter = { in: string; name: string; schema?: { type?: string; minimum?: number; maximum?: number } };
    const document = (await t.http.get('/docs-json').expect(200)).body as { paths: Record<string, Record<string, { parameters?: Parameter[] }>> };
    parameters = Object.entries(document.paths).flatMap(([template, item]) =>
      Object.entries(item).flatMap(([method, operation]) =>
        (operation.parameters ?? [])
          .filter((p) => p.in === 'query' && p.schema?.type === 'integer')
          .map((p) => ({
            route: `${method.toUpperCase()} ${template}`,
            path: template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name])),
            name: p.name,
            minimum: p.schema!.minimum ?? 0,
            maximum: p.schema!.maximum,
          })),
      ),
    );
  });

  it('refuses the audit’s ?limit=1e2 with a 400 naming the parameter', async () => {
    const res = await t.http.get('/api/projects?limit=1e2').set(t.auth);
    expect(problem(res)).toEqual({ status: 400, type: 'application/problem+json' });
    expect(res.body.errors).toEqual([{ field: 'limit', message: expect.stringMatching(/^limit must be an integer from 1 to 200, in plain decimal digits/) }]);
  });

  it('finds every integer query parameter in the document (limit on six lists, after on the event feed)', () => {
    expect(parameters.map((p) => `${p.route} ${p.name}`).sort()).toEqual([
      'GET /api/events after',
      'GET /api/events limit',
      'GET /api/issues/{issueId}/webhook-decisions limit',
      'GET /api/projects limit',
      'GET /api/projects/{projectId}/audit limit',
      'GET /api/projects/{projectId}/issues limit',
      'GET /api/projects/{projectId}/webhooks/{webhookId}/deliveries limit',
    ]);
  });

  it('takes only plain decimal digits in range, on every such parameter, naming it otherwise', async () => {
    for (const { route, path, name, minimum, maximum } of parameters) {
      for (const value of [...NOT_PLAIN, String(minimum - 1), ...(maximum === undefined ? ['9007199254740992'] : [String(maximum + 1)])]) {
        const res = await t.http.get(`${path}?${name}=${encodeURIComponent(value)}`).set(t.auth);
        expect({ route, value, ...problem(res), errors: res.body.errors }).toEqual({ route, value, status: 400, type: 'application/problem+json', errors: [{ field: name, message: expect.stringContaining(`${name} must be an integer from ${minimum}`) }] });
      }
      // given twice, it is no integer either
      expect({ route, status: (await t.http.get(`${path}?${name}=1&${name}=2`).set(t.auth)).status }).toEqual({ route, status: 400 });
      for (const value of [String(minimum), String(Math.max(minimum, 1)), String(maximum ?? 7)]) {
        expect({ route, value, status: (await t.http.get(`${path}?${name}=${value}`).set(t.auth)).status }).toEqual({ route, value, status: 200 });
      }
    }
  });

  it('reads the numeric parts of cursors by the same rule', async () => {
    const cursor = (...parts: (string | number)[]) => Buffer.from(parts.join(':')).toString('base64url');
    const lists = [
      { path: '/api/projects', scope: 'projects' },
      { path: `/api/projects/${values.projectId}/audit`, scope: `audit-${values.projectId}` },
      { path: `/api/projects/${values.projectId}/issues`, scope: `issues-${values.projectId}` },
      { path: `/api/issues/${values.issueId}/webhook-decisions`, scope: 'decisions' },
    ];
    for (const { path, scope } of lists) {
      for (const value of ['1e0', '+1', ' 1', '0x1', '1.0', '01', '']) {
        const res = await t.http.get(`${path}?cursor=${cursor(scope, value)}`).set(t.auth);
        expect({ path, value, ...problem(res), errors: res.body.errors }).toEqual({ path, value, status: 400, type: 'application/problem+json', errors: [{ field: 'cursor', message: expect.any(String) }] });
      }
      expect({ path, status: (await t.http.get(`${path}?cursor=${cursor(scope, 1)}`).set(t.auth)).status }).toEqual({ path, status: 200 });
    }
    const deliveries = `/api/projects/${values.projectId}/webhooks/${values.webhookId}/deliveries`;
    for (const createdAt of ['1e12', '+1', '1.5', '0x1', '']) {
      expect({ createdAt, status: (await t.http.get(`${deliveries}?cursor=${cursor(values.webhookId, createdAt, 'msg_x')}`).set(t.auth)).status }).toEqual({ createdAt, status: 400 });
    }
    expect((await t.http.get(`${deliveries}?cursor=${cursor(values.webhookId, Date.now(), 'msg_x')}`).set(t.auth)).status).toBe(200);
  });
});
