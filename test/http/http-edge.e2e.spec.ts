import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { EventStore } from '../../src/event-store/event-store.js';
import { api } from '../support/api.js';
import { ADMIN_TOKEN, startTestApp, useTestApp, type TestApp } from '../support/test-app.js';

interface RawAnswer {
  status?: number;
  headers: Record<string, string>;
  body: string;
  /** From the first byte sent to the connection's close. */
  elapsedMs: number;
  closed: boolean;
}

/**
 * Sends bytes on a raw connection, `gapMs` apart (a slow client), until the server answers
 * and closes or `maxMs` passes; the first answer is parsed. Bounded: never waits past maxMs.
 */
function raw(port: number, parts: (string | Buffer)[], options: { gapMs?: number; maxMs?: number } = {}): Promise<RawAnswer> {
  const { gapMs = 0, maxMs = 3000 } = options;
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let i = 0;
    const next = () => {
      if (socket.destroyed || i >= parts.length) return;
      socket.write(parts[i++]);
      if (gapMs > 0) timer = setTimeout(next, gapMs);
      else setImmediate(next);
    };
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      clearTimeout(cap);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1];
      resolve({ status: status ? Number(status) : undefined, headers, body: rest.join('\r\n\r\n'), elapsedMs: performance.now() - started, closed });
    };
    const cap = setTimeout(() => finish(false), maxMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
    socket.on('connect', next);
  });
}

const bytes = (text: string) => [...text];
const auth = `Authorization: Bearer ${ADMIN_TOKEN}\r\n`;

function expectProblem(answer: RawAnswer, status: number, what: string) {
  expect({ what, status: answer.status, type: answer.headers['content-type'] }).toEqual({ what, status, type: 'application/problem+json; charset=utf-8' });
  const body = JSON.parse(answer.body.slice(0, Number(answer.headers['content-length'])));
  expect(body).toMatchObject({ type: expect.stringMatching(/^urn:herald:problem:/), status, title: expect.any(String), detail: expect.any(String) });
  return body as { detail: string };
}

async function listen(t: TestApp): Promise<number> {
  await t.app.listen(0, '127.0.0.1');
  return (t.app.getHttpServer().address() as AddressInfo).port;
}

describe('requests Node’s parser or Fastify’s router refuse, before any route', () => {
  const t = useTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'false', HERALD_RATE_LIMIT_PER_MINUTE: '0', HERALD_BODY_TIMEOUT_MS: '400', HERALD_HEADERS_TIMEOUT_MS: '400', HERALD_REQUEST_TIMEOUT_MS: '1500' } });
  let port: number;
  let issueId: number;
  const logDigest = async () => createHash('sha256').update(JSON.stringify(await t.app.get(EventStore).query(`SELECT * FROM events ORDER BY position`))).digest('hex');

  beforeAll(async () => {
    const project = await api(t).createProject('Edge');
    issueId = (await api(t).createIssue(project.id)).id;
    port = await listen(t);
  });

  it('5: answers each of the audit’s requests with a 4xx problem+json, and appends nothing', async () => {
    const before = await logDigest();
    const post = (headers: string, body = '') => `POST /api/issues/${issueId}/comments HTTP/1.1\r\nHost: h\r\n${auth}Content-Type: application/json\r\n${headers}\r\n${body}`;
    const cases: [what: string, request: string, status: number][] = [
      ['a bad percent-escape', `GET /api/issues/%ZZ HTTP/1.1\r\nHost: h\r\n${auth}Connection: close\r\n\r\n`, 400],
      ['a 5,000-character delivery id', `GET /api/projects/1/webhooks/1/deliveries/${'d'.repeat(5000)} HTTP/1.1\r\nHost: h\r\n${auth}Connection: close\r\n\r\n`, 414],
      ['a 64 KB Authorization header', `GET /api/users/me HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ${'a'.repeat(65_536)}\r\n\r\n`, 431],
      ['a 60 KB path', `GET /api/${'p'.repeat(60_000)} HTTP/1.1\r\nHost: h\r\n${auth}\r\n`, 431],
      ['Content-Length with chunked', post('Content-Length: 15\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), 400],
      ['a bad chunk size', post('Transfer-Encoding: chunked\r\n', 'ZZ\r\n{"content":"x"}\r\n0\r\n\r\n'), 400],
      ['Content-Length: -1', post('Content-Length: -1\r\n', '{"content":"x"}'), 400],
      ['Content-Length: 2^64', post('Content-Length: 18446744073709551616\r\n', '{"content":"x"}'), 400],
      ['a NUL in the path', `GET /api/issues/1\0 HTTP/1.1\r\nHost: h\r\n${auth}\r\n`, 400],
      ['bare LF line endings', `GET /api/issues/${issueId} HTTP/1.1\nHost: h\n${auth.replace('\r\n', '\n')}\n`, 400],
    ];
    for (const [what, request, status] of cases) {
      const body = expectProblem(await raw(port, [request]), status, what);
      // the parser's reason, never the request (a path or header may carry a token)
      expect({ what, echoes: /aaaa|pppp|dddd/.test(body.detail) }).toEqual({ what, echoes: false });
    }
    expect(await logDigest()).toBe(before);
  });

  it('answers any odd request it receives with a 4xx problem+json (or a success), never a 5xx, and keeps serving', async () => {
    // mostly well-formed requests with one thing odd about them, so that every layer gets its share:
    // Node's parser (framing), Fastify's router (escapes, long parameters), the body policy, the routes
    const usually = <T>(normal: T, odd: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(normal), weight: 4 }, { arbitrary: odd, weight: 1 });
    const method = usually('POST', fc.constantFrom('GET', 'PATCH', 'DELETE', 'BREW', 'G\0T', ''));
    const escape = fc.integer({ min: 0, max: 255 }).map((n) => `%${n.toString(16).padStart(2, '0')}`);
    const segment = fc.array(fc.oneof(escape, fc.constantFrom('%', '%Z', '%e0%80', '%ed%a0%80', '..', ';x', '1e3', '007'), fc.string({ unit: 'grapheme-ascii', maxLength: 4 }).map(encodeURIComponent)), { maxLength: 6 }).map((parts) => parts.join(''));
    const target = fc.oneof(
      fc.constantFrom(`/api/issues/${issueId}/comments`, `/api/issues/${issueId}`, '/api/users/me', '*', 'http://x/api'),
      segment.map((s) => `/api/issues/${s}`),
      segment.map((s) => `/api/issues/${issueId}/comments?${s}`),
      fc.integer({ min: 90, max: 300 }).map((n) => `/api/projects/1/webhooks/1/deliveries/${'d'.repeat(n)}`),
    );
    const version = usually('HTTP/1.1', fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 x', 'HTTX/1.1'));
    const eol = usually('\r\n', fc.constantFrom('\n', '\r'));
    const contentType = usually('Content-Type: application/json', fc.constantFrom('Content-Type: text/plain', 'Content-Type: application/json; charset=utf-16', 'Content-Type: application/json\r\nContent-Type: text/plain', 'X-None: 1'));
    const framing = (body: string) =>
      usually(`Content-Length: ${Buffer.byteLength(body)}`, fc.constantFrom('Content-Length: -1', 'Content-Length: 1e3', `Content-Length: ${Buffer.byteLength(body) + 1}`, 'Transfer-Encoding: chunked', `Content-Length: 3\r\nTransfer-Encoding: chunked`));
    const oddHeader = fc.option(fc.tuple(fc.constantFrom('X-Odd', 'Bad Name', 'Bad:Name', '', 'Authorization'), fc.string({ unit: 'binary-ascii', maxLength: 20 })).map(([n, v]) => `${n}: ${v}`), { nil: undefined });
    const body = fc.oneof(
      fc.constant('{"content":"x"}'),
      fc.jsonValue({ maxDepth: 12 }).map((v) => JSON.stringify({ content: v })),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => `{"content":"\\u${u.toString(16)}"}`),
    );
    const request = body.chain((b) => fc.tuple(method, target, version, eol, contentType, framing(b), oddHeader, fc.constant(b)));
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(request, async ([m, path, v, nl, type, frame, odd, b]) => {
        const headers = ['Host: h', auth.trim(), type, frame, ...(odd ? [odd] : []), 'Connection: close'];
        const answer = await raw(port, [`${m} ${path} ${v}${nl}${headers.join(nl)}${nl}${nl}${b}`], { maxMs: 2500 });
        if (answer.status === undefined) return; // closed with nothing to say, or waiting for a body it was promised (cut by the body timeout): no 5xx either way
        statuses.add(answer.status);
        expect({ path, status: answer.status < 500 }).toEqual({ path, status: true });
        if (answer.status >= 400) expect({ path, type: answer.headers['content-type'] }).toEqual({ path, type: 'application/problem+json; charset=utf-8' });
      }),
      { numRuns: 150, seed: 17 },
    );
    // each layer answered some: the parser and router (400, 414), the body policy (415), the routes (201, 404)
    expect([...statuses].sort()).toEqual(expect.arrayContaining([201, 400, 404, 414, 415]));
    expect((await raw(port, [`GET /health/live HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`])).status).toBe(200);
  });

  it('6: refuses two Content-Type headers and JSON sent as text/plain with 415 on every write route, appending nothing', async () => {
    const document = (await t.http.get('/docs-json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(document.paths).flatMap(([template, item]) =>
      Object.keys(item)
        .filter((m) => ['post', 'put', 'patch', 'delete'].includes(m))
        .map((m) => [m.toUpperCase(), template.replace(/\{\w+\}/g, '1')] as const),
    );
    expect(routes.length).toBeGreaterThanOrEqual(19);
    const before = await logDigest();
    for (const [method, path] of routes) {
      for (const contentType of [['application/json', 'text/plain'], ['text/plain', 'application/json'], 'text/plain']) {
        const answer = await new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
          const body = '{"name":"x","content":"x","status":"DONE"}';
          // Content-Length set: Node's client frames no DELETE body by itself
          const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': contentType, 'content-length': String(body.length) };
          const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), text }));
          });
          req.on('error', reject);
          req.end(body);
        });
        expect({ route: `${method} ${path}`, contentType, status: answer.status, type: answer.type }).toEqual({
          route: `${method} ${path}`,
          contentType,
          status: 415,
          type: 'application/problem+json; charset=utf-8',
        });
      }
    }
    expect(await logDigest()).toBe(before);
  });
});

/**
 * A slow client is cut at its timeout, late by at most a few checks of Node's (a quarter of the timeout each) and
 * whatever a busy machine adds: the upper bounds are this many times the timeout. Each slow client would take
 * longer than that to send its request in full (a byte every 50 ms), and is given that long before raw() gives up.
 */
const LATE = 10;
const SLOW = { gapMs: 50, maxMs: 30_000 };

describe('slow clients are cut off after the configured timeouts (408 problem+json, connection closed)', () => {
  const t = useTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'false', HERALD_RATE_LIMIT_PER_MINUTE: '0', HERALD_HEADERS_TIMEOUT_MS: '300', HERALD_BODY_TIMEOUT_MS: '400', HERALD_REQUEST_TIMEOUT_MS: '5000' } });
  let port: number;
  const comment = (length: number) => `POST /api/issues/1/comments HTTP/1.1\r\nHost: h\r\n${auth}Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
  // 400 bytes: 20 s at a byte every 50 ms
  const body = `{"content":"${'x'.repeat(386)}"}`;

  beforeAll(async () => {
    port = await listen(t);
  });

  it('a request head sent a byte every 50 ms is cut after HERALD_HEADERS_TIMEOUT_MS', async () => {
    // some 300 bytes: 15 s at a byte every 50 ms
    const answer = await raw(port, bytes(`GET /api/users/me HTTP/1.1\r\nHost: h\r\n${auth}X-Pad: ${'y'.repeat(200)}\r\n\r\n`), SLOW);
    expectProblem(answer, 408, 'slow head');
    expect(answer.closed).toBe(true);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(300);
    expect(answer.elapsedMs).toBeLessThan(300 * LATE);
  });

  it('a body sent a byte every 50 ms is cut after HERALD_BODY_TIMEOUT_MS, counted from the end of the head', async () => {
    const answer = await raw(port, [comment(body.length), ...bytes(body)], SLOW);
    const problem = expectProblem(answer, 408, 'slow body');
    expect(problem.detail).toMatch(/HERALD_BODY_TIMEOUT_MS/);
    expect(answer.closed).toBe(true);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(400);
    expect(answer.elapsedMs).toBeLessThan(400 * LATE);
  });

  it('a client that sends its request in time is served', async () => {
    const answer = await raw(port, [`GET /api/users/me HTTP/1.1\r\nHost: h\r\n${auth}Connection: close\r\n\r\n`]);
    expect(answer.status).toBe(200);
  });
});

describe('a whole request is bounded by HERALD_REQUEST_TIMEOUT_MS', () => {
  it('cuts a request whose head and body, each in time, together take longer', async () => {
    // the body's own timeout is longer than the whole request takes to send: only the request's timeout can cut it
    const t = await startTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'false', HERALD_RATE_LIMIT_PER_MINUTE: '0', HERALD_HEADERS_TIMEOUT_MS: '400', HERALD_BODY_TIMEOUT_MS: '60000', HERALD_REQUEST_TIMEOUT_MS: '700' } });
    try {
      const port = await listen(t);
      const body = `{"content":"${'x'.repeat(386)}"}`;
      const answer = await raw(port, [`POST /api/issues/1/comments HTTP/1.1\r\nHost: h\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, ...bytes(body)], SLOW);
      const problem = expectProblem(answer, 408, 'slow request');
      expect(problem.detail).toMatch(/HERALD_REQUEST_TIMEOUT_MS/);
      expect(answer.elapsedMs).toBeGreaterThanOrEqual(700);
      expect(answer.elapsedMs).toBeLessThan(700 * LATE);
    } finally {
      await t.close();
    }
  });
});
