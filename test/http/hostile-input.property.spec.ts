import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { EventStore } from '../../src/event-store/event-store.js';
import { MAX_JSON_DEPTH } from '../../src/http/body-policy.js';
import { api } from '../support/api.js';
import { OpenApiConformance, type OpenApiDocument } from '../support/openapi-conformance.js';
import { useTestApp } from '../support/test-app.js';

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
/** Of the property's 400 requests, how many may succeed (see the property); today none does. */
const MAX_ACCEPTED = 4;
const badQuery = fc.option(fc.constantFrom('?limit=-1', '?limit=abc', '?cursor=AAAA', '?status=NOPE', '?since=yesterday', '?a[b]=c'), { nil: '' });

describe('hostile input to every write route', () => {
  const t = useTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'false', HERALD_RATE_LIMIT_PER_MINUTE: '0' } });
  let projectId: number;
  let issueId: number;
  const logDigest = async () => {
    const rows = await t.app.get(EventStore).query<Record<string, unknown>>(`SELECT * FROM events ORDER BY position`);
    return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
  };

  beforeAll(async () => {
    const a = api(t);
    projectId = (await a.createProject('Target')).id;
    issueId = (await a.createIssue(projectId, { pipeline: { stages: [{ name: 's', tasks: [{ name: 't' }] }] } })).id;
  });

  it('always answers 4xx problem+json (never 5xx) and leaves the event log byte for byte unchanged', async () => {
    // a generated request is valid now and then (a body a DELETE ignores, a PATCH of nothing): it may succeed and
    // append; those are counted, and more than a few means the validation lets through what it should refuse
    const accepted: string[] = [];
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
          if (res.status >= 200 && res.status < 300) {
            accepted.push(`${method.toUpperCase()} ${target}${query} ${JSON.stringify(body)?.slice(0, 60)} → ${res.status}`);
            return;
          }
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(res.body).toMatchObject({ status: res.status, title: expect.any(String), detail: expect.any(String) });
          expect(await logDigest()).toBe(before);
        },
      ),
      { numRuns: 400, seed: 20261127 },
    );
    expect({ atMost: MAX_ACCEPTED, accepted }).toEqual({ atMost: MAX_ACCEPTED, accepted: accepted.slice(0, MAX_ACCEPTED) });
  });

  it('refuses malformed JSON and prototype poisoning with 400, other content types with 415', async () => {
    const post = (body: string, type = 'application/json') => t.http.post(`/api/issues/${issueId}/comments`).set(t.auth).set('content-type', type).send(body);
    for (const [body, type, status] of [
      ['{"content":', 'application/json', 400],
      ['{"content":"x","__proto__":{"polluted":true}}', 'application/json', 400],
      ['{"content":"x","constructor":{"prototype":{"polluted":true}}}', 'application/json', 400],
      ['content=x', 'application/x-www-form-urlencoded', 415],
      ['<xml/>', 'text/xml', 415],
    ] as const) {
      const res = await post(body, type);
      expect({ body, status: res.status, problem: /^application\/problem\+json/.test(res.headers['content-type']) }).toEqual({ body, status, problem: true });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

interface SchemaNode {
  $ref?: string;
  allOf?: SchemaNode[];
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  nullable?: boolean;
}

/** A field of a route's body, found in the OpenAPI document: its path (`pipeline.stages.0.name`) and whether null is documented. */
interface BodyField {
  route: string;
  method: 'post' | 'put' | 'patch';
  template: string;
  path: string[];
  nullable: boolean;
  string: boolean;
}

/** Every field of every route's body, nested ones included, from the document the service serves. */
function bodyFields(document: OpenApiDocument & { components: { schemas: Record<string, SchemaNode> } }): BodyField[] {
  const resolve = (node: SchemaNode): SchemaNode => {
    if (node.$ref) return resolve(document.components.schemas[node.$ref.split('/').pop()!]);
    if (node.allOf?.length === 1) return { ...resolve(node.allOf[0]), ...node, allOf: undefined };
    return node;
  };
  const fields: BodyField[] = [];
  const walk = (node: SchemaNode, at: string[], base: Omit<BodyField, 'path' | 'nullable' | 'string'>) => {
    for (const [name, raw] of Object.entries(resolve(node).properties ?? {})) {
      const property = resolve(raw);
      const types = [property.type].flat();
      fields.push({ ...base, path: [...at, name], nullable: types.includes('null') || property.nullable === true, string: types.includes('string') });
      if (property.properties) walk(property, [...at, name], base);
      if (property.items && resolve(property.items).properties) walk(property.items, [...at, name, '0'], base);
    }
  };
  for (const [template, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, { requestBody?: { content: Record<string, { schema: SchemaNode }> } }>)) {
      const schema = operation.requestBody?.content['application/json']?.schema;
      if (schema) walk(schema, [], { route: `${method.toUpperCase()} ${template}`, method: method as BodyField['method'], template });
    }
  }
  return fields;
}

/** A body holding `value` at the path, arrays of one element on the way (`pipeline.stages.0.name`). */
function bodyWith(path: string[], value: unknown): unknown {
  const [head, ...rest] = path;
  const inner = rest.length === 0 ? value : bodyWith(rest, value);
  return head === '0' ? [inner] : { [head]: inner };
}

const nested = (depth: number, asObject: boolean, leaf: string) => `${(asObject ? '{"a":' : '[').repeat(depth)}${leaf}${(asObject ? '}' : ']').repeat(depth)}`;

describe('the audit’s requests, and the classes they stand for', () => {
  const t = useTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'false', HERALD_RATE_LIMIT_PER_MINUTE: '0', WEBHOOK_ALLOW_HTTP: 'true' } });
  let ids: Record<string, number | string>;
  let fields: BodyField[];
  let conformance: OpenApiConformance;
  const logDigest = async () => createHash('sha256').update(JSON.stringify(await t.app.get(EventStore).query(`SELECT * FROM events ORDER BY position`))).digest('hex');
  const pathOf = (template: string) => template.replace(/\{(\w+)\}/g, (_, name: string) => String(ids[name]));
  const send = (method: BodyField['method'] | 'get', path: string, body?: string, type = 'application/json') => {
    const request = t.http[method](path).set(t.auth);
    return body === undefined ? request : request.set('content-type', type).send(body);
  };
  const expectProblem = (res: { status: number; headers: Record<string, string>; body: { status?: number } }, status: number, what: string) => {
    expect({ what, status: res.status, type: res.headers['content-type']?.split(';')[0], bodyStatus: res.body.status }).toEqual({ what, status, type: 'application/problem+json', bodyStatus: status });
  };

  beforeAll(async () => {
    const a = api(t);
    const project = await a.createProject('Audited');
    const issue = await a.createIssue(project.id, { name: 'Audited issue', pipeline: { stages: [{ name: 's', tasks: [{ name: 't' }] }] } });
    const comment = await a.comment(issue.id, 'first');
    const webhook = await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'c', url: 'https://hooks.example.test/c', activityTypes: ['bb.issue.create'] }, 201);
    ids = { projectId: project.id, issueId: issue.id, taskId: issue.pipeline.stages[0].tasks[0].id, commentId: comment.id, webhookId: webhook.id, userId: 2, type: 'FEISHU' };
    const document = (await t.http.get('/docs-json').expect(200)).body;
    fields = bodyFields(document);
    conformance = new OpenApiConformance(document);
  });

  it('finds the fields of every route with a body in the document (18 routes; nested pipeline and approval fields; the nullable ones)', () => {
    expect(new Set(fields.map((f) => f.route)).size).toBe(18);
    expect(fields.map((f) => f.path.join('.'))).toEqual(expect.arrayContaining(['pipeline.stages.0.tasks.0.name', 'approval.steps.0.approvers', 'approvalSteps.0.role', 'headers', 'email', 'reason']));
    expect(fields.filter((f) => f.nullable).map((f) => `${f.route} ${f.path.join('.')}`).sort()).toEqual([
      'PATCH /api/issues/{issueId} assigneeId',
      'PATCH /api/projects/{projectId}/webhooks/{webhookId} filter',
      'PATCH /api/projects/{projectId}/webhooks/{webhookId} signingSecret',
      'PATCH /api/users/{userId} phone',
      'PATCH /api/users/{userId} slackMemberId',
      'PATCH /api/users/{userId} wecomUserId',
      'POST /api/projects/{projectId}/issues assigneeId',
      'POST /api/projects/{projectId}/webhooks filter',
      'POST /api/projects/{projectId}/webhooks signingSecret',
      'POST /api/users phone',
      'POST /api/users slackMemberId',
      'POST /api/users wecomUserId',
    ]);
  });

  it('1, 4: a null the document does not allow is a 400 naming the field, appends nothing, and the issue keeps its documented shape', async () => {
    const before = await logDigest();
    for (const [method, path, body, field] of [
      ['patch', `/api/issues/${ids.issueId}`, '{"name":null}', 'name'],
      ['patch', `/api/issues/${ids.issueId}`, '{"description":null}', 'description'],
      ['patch', `/api/projects/${ids.projectId}`, '{"name":null}', 'name'],
      ['post', `/api/projects/${ids.projectId}/webhooks`, '{"type":"CUSTOM","name":"h","url":"https://hooks.example.test/h","activityTypes":["bb.issue.create"],"headers":null}', 'headers'],
    ] as const) {
      const res = await send(method, path, body);
      expectProblem(res, 400, `${method} ${path} ${body}`);
      expect(res.body.errors).toEqual([{ field, message: `${field} must not be null` }]);
    }
    expect(await logDigest()).toBe(before);
    for (const path of [`/api/issues/${ids.issueId}`, `/api/projects/${ids.projectId}/issues`]) {
      const res = await send('get', path);
      expect(conformance.check('GET', path, res.status, res.headers['content-type'], res.body)).toEqual([]);
    }
  });

  it('4: an email holding a lone surrogate is a 400 naming the field', async () => {
    const res = await send('post', '/api/users', '{"name":"x","email":"a\\ud800@example.com"}');
    expectProblem(res, 400, 'lone surrogate');
    expect(res.body.errors).toEqual([{ field: 'email', message: expect.stringContaining('well-formed Unicode') }]);
  });

  it('issue 23, 2: a body whose bytes are not UTF-8 (ff fe inside a string) is a 400 naming the problem and where, and changes nothing', async () => {
    const before = await logDigest();
    // the bytes as they are (superagent would serialize a Buffer as JSON)
    const comment = (bytes: Buffer) => t.http.post(`/api/issues/${ids.issueId}/comments`).set(t.auth).set('content-type', 'application/json').serialize(() => bytes as never).send(bytes);
    const json = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
    // the audit's body, then the other ways bytes fail to be UTF-8: a lone continuation byte, an overlong form,
    // an encoded surrogate, a code point above U+10FFFF, a sequence cut short (in a value, in a key, at the end)
    for (const [what, body, offset] of [
      ['ff fe', json('{"content":"a', [0xff, 0xfe], 'b"}'), 13],
      ['lone continuation', json('{"content":"', [0x80], '"}'), 12],
      ['overlong', json('{"content":"', [0xc0, 0xaf], '"}'), 12],
      ['encoded surrogate', json('{"content":"', [0xed, 0xa0, 0x80], '"}'), 12],
      ['above U+10FFFF', json('{"content":"', [0xf4, 0x90, 0x80, 0x80], '"}'), 12],
      ['cut short in a key', json('{"con', [0xe2, 0x82], 'tent":"x"}'), 5],
      ['cut short at the end', json('{"content":"x"}', [0xe2, 0x82]), 15],
    ] as const) {
      const res = await comment(body);
      expectProblem(res, 400, what);
      expect({ what, errors: res.body.errors }).toEqual({ what, errors: [{ field: 'body', message: `must be valid UTF-8 (the first invalid byte is at offset ${offset})` }] });
      expect(res.body.detail).toMatch(/UTF-8/);
    }
    expect(await logDigest()).toBe(before);
    // well-formed UTF-8 of every length still goes through, as typed
    const typed = 'é 中文 😀 \ufffd';
    expect((await comment(json(JSON.stringify({ content: typed }))).expect(201)).body.content).toBe(typed);
  });

  it('2: a body nested 10,000 deep is a 400 on every route with a body, as a whole body or in a field', async () => {
    const before = await logDigest();
    for (const route of new Set(fields.map((f) => `${f.method} ${f.template}`))) {
      const [method, template] = route.split(' ') as [BodyField['method'], string];
      for (const body of [nested(10_000, false, '1'), `{"name":${nested(10_000, false, '1')}}`]) {
        const res = await send(method, pathOf(template), body);
        expectProblem(res, 400, `${route} ${body.slice(0, 12)}`);
        expect(res.body.errors[0].message).toBe(`must not nest arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
      }
    }
    expect(await logDigest()).toBe(before);
  });

  it('3: a token in the first path segment of a Custom URL is shown nowhere', async () => {
    for (const url of ['http://hooks.example.test/SEGTOKEN0123456789abcdef', 'http://hooks.example.test/;MATRIXTOKEN77']) {
      const created = (await send('post', `/api/projects/${ids.projectId}/webhooks`, JSON.stringify({ type: 'CUSTOM', name: 'masked', url, activityTypes: ['bb.issue.create'] }))).body;
      expect(created.url).toBe('http://hooks.example.test/***');
      const shown = JSON.stringify([(await send('get', `/api/projects/${ids.projectId}/webhooks`)).body, (await send('get', '/api/events?limit=1000')).body]);
      expect(shown).not.toMatch(/SEGTOKEN|MATRIXTOKEN/);
      await send('delete' as never, `/api/projects/${ids.projectId}/webhooks/${created.id}`);
    }
  });

  it('6: JSON sent as text/plain, or with a charset other than UTF-8, is a 415', async () => {
    for (const type of ['text/plain', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/x-www-form-urlencoded']) {
      expectProblem(await send('post', `/api/issues/${ids.issueId}/comments`, '{"content":"x"}', type), 415, type);
    }
    expect((await send('post', `/api/issues/${ids.issueId}/comments`, '{"content":"x"}', 'application/json; charset=UTF-8')).status).toBe(201);
  });

  it('9: an id in a path is a plain decimal without leading zeros', async () => {
    for (const id of ['1e3', '00002', '0x2', '2.0', '+2', ' 2', '2 ', '٢']) {
      const res = await send('get', `/api/issues/${encodeURIComponent(id)}`);
      expectProblem(res, 400, id);
      expect(res.body.errors).toEqual([{ field: 'issueId', message: expect.stringContaining('plain decimal') }]);
    }
    expect((await send('get', `/api/issues/${ids.issueId}`)).status).toBe(200);
  });

  it('every field of every route: null (400 unless documented nullable), a lone surrogate or deep nesting (400), and nothing appended', async () => {
    const leaf = fc.oneof(fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => `a\\u${unit.toString(16)}b`), fc.constant('a\\u0000b'));
    // every class for every field; fast-check picks the lone surrogate, the depth and the nesting
    const classes = {
      null: fc.constant('null'),
      'ill-formed': leaf.map((text) => `"${text}"`),
      deep: fc.tuple(fc.integer({ min: MAX_JSON_DEPTH + 1, max: 5_000 }), fc.boolean()).map(([depth, asObject]) => nested(depth, asObject, '1')),
    };
    for (const field of fields) {
      for (const [kind, values] of Object.entries(classes)) {
        await fc.assert(
          fc.asyncProperty(values, async (value) => {
            const at = field.path.join('.');
            const body = JSON.stringify(bodyWith(field.path, '__VALUE__')).replace('"__VALUE__"', value);
            const before = await logDigest();
            const res = await send(field.method, pathOf(field.template), body);
            const what = `${field.route} ${at} ${kind}`;
            if (kind === 'null' && field.nullable) {
              // allowed: whatever else the body lacks, the null is not what is refused
              expect({ what, refusedNull: (res.body.errors ?? []).some((e: { field: string; message: string }) => e.field === at && /null/.test(e.message)) }).toEqual({ what, refusedNull: false });
              return;
            }
            expectProblem(res, 400, what);
            const named = res.body.errors.map((e: { field: string; message: string }) => `${e.field}: ${e.message}`);
            const rule = kind === 'null' ? `${at}: ${field.path[field.path.length - 1]} must not be null` : kind === 'deep' ? 'levels deep' : 'well-formed Unicode';
            expect({ what, named: named.some((n: string) => (n === rule || n.includes(rule)) && (n.startsWith(`${at}:`) || n.startsWith(`${at}.`))) }).toEqual({ what, named: true });
            expect(await logDigest()).toBe(before);
          }),
          { numRuns: kind === 'null' ? 1 : 3, seed: 2026_17 },
        );
      }
    }
  });
});
