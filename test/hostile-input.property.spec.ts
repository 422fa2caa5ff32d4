import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { EventStore } from '../src/event-store/event-store.js';
import { api } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';

/** Every write route, with generated bad ids, bodies, headers and query strings. */
const WRITES: [method: 'post' | 'put' | 'patch' | 'delete', path: (id: string) => string][] = [
  ['post', () => '/api/users'],
  ['post', (id) => `/api/users/${id}/tokens`],
  ['delete', (id) => `/api/users/${id}/tokens/${id}`],
  ['post', () => '/api/projects'],
  ['patch', (id) => `/api/projects/${id}`],
  ['put', (id) => `/api/projects/${id}/members/${id}`],
  ['delete', (id) => `/api/projects/${id}/members/${id}`],
  ['post', (id) => `/api/projects/${id}/issues`],
  ['patch', (id) => `/api/issues/${id}`],
  ['post', (id) => `/api/issues/${id}/status`],
  ['post', (id) => `/api/issues/${id}/tasks/${id}/status`],
  ['post', (id) => `/api/issues/${id}/comments`],
  ['patch', (id) => `/api/issues/${id}/comments/${id}`],
  ['post', (id) => `/api/projects/${id}/webhooks`],
  ['patch', (id) => `/api/projects/${id}/webhooks/${id}`],
  ['delete', (id) => `/api/projects/${id}/webhooks/${id}`],
  ['post', (id) => `/api/projects/${id}/webhooks/${id}/test`],
  ['post', (id) => `/api/projects/${id}/webhooks/${id}/deliveries/${id}/redeliver`],
  ['post', (id) => `/api/projects/${id}/webhooks/${id}/recover`],
];

const badId = fc.oneof(
  fc.constantFrom('0', '-1', '1.5', '1e3', '0x10', '99999999999999999999', 'NaN', 'null', '%00', '..', 'msg_%2e%2e', '9007199254740993'),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const badBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ name: fc.anything(), type: fc.anything(), content: fc.anything(), status: fc.anything(), url: fc.anything(), role: fc.anything() }, { requiredKeys: [] }),
  fc.constantFrom({ __proto__: { admin: true } }, { constructor: { prototype: { x: 1 } } }, { content: 'x'.repeat(70_000) }, [], 'plain', 42, null),
);
const badHeader = fc.option(fc.constantFrom('W/"x"', '"-1"', 'W/"99999999999999999999"', '*', ''), { nil: undefined });
const badQuery = fc.option(fc.constantFrom('?limit=-1', '?limit=abc', '?cursor=AAAA', '?status=NOPE', '?since=yesterday', '?a[b]=c'), { nil: '' });

describe('hostile input to every write route', () => {
  let t: TestApp;
  let projectId: number;
  let issueId: number;
  const logDigest = async () => {
    const rows = await t.app.get(EventStore).query<Record<string, unknown>>(`SELECT * FROM events ORDER BY position`);
    return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'false', HERALD_RATE_LIMIT_PER_MINUTE: '0' } });
    const a = api(t);
    projectId = (await a.createProject('Target')).id;
    issueId = (await a.createIssue(projectId, { pipeline: { stages: [{ name: 's', tasks: [{ name: 't' }] }] } })).id;
  });
  afterAll(() => t.close());

  it('always answers 4xx problem+json (never 5xx) and leaves the event log byte for byte unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...WRITES),
        badId,
        badBody,
        badHeader,
        badQuery,
        fc.boolean(),
        async ([method, path], id, body, ifMatch, query, realIds) => {
          // half the time the ids are real, so the bodies and headers meet the validation behind them
          const target = realIds ? path(String(id.length % 2 ? projectId : issueId)) : path(id);
          const before = await logDigest();
          let request = t.http[method](`${target}${query}`).set(t.auth);
          if (ifMatch !== undefined) request = request.set('If-Match', ifMatch);
          const res = await request.set('content-type', 'application/json').send(JSON.stringify(body) ?? 'undefined');
          if (res.status >= 200 && res.status < 300) return; // a generated body that happens to be valid
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(res.body).toMatchObject({ status: res.status, title: expect.any(String), detail: expect.any(String) });
          expect(await logDigest()).toBe(before);
        },
      ),
      { numRuns: 400, seed: 20261127 },
    );
  });

  it('refuses malformed JSON, wrong content types and prototype poisoning with 4xx', async () => {
    const post = (body: string, type = 'application/json') => t.http.post(`/api/issues/${issueId}/comments`).set(t.auth).set('content-type', type).send(body);
    for (const [body, type] of [
      ['{"content":', 'application/json'],
      ['{"content":"x","__proto__":{"polluted":true}}', 'application/json'],
      ['{"content":"x","constructor":{"prototype":{"polluted":true}}}', 'application/json'],
      ['content=x', 'application/x-www-form-urlencoded'],
      ['<xml/>', 'text/xml'],
    ]) {
      const res = await post(body, type);
      expect({ body, status: res.status }).toEqual({ body, status: expect.any(Number) });
      expect({ body, fourxx: res.status >= 400 && res.status < 500, problem: /problem\+json/.test(res.headers['content-type']) }).toEqual({ body, fourxx: true, problem: true });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
