import type { LookupAddress } from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type HttpOutcome,
  type LookupAllFn,
  WebhookHttpClient,
  type WebhookHttpClientOptions,
} from '../../../src/webhooks/http/http-client.js';

/** A receiver on a loopback address, recording what reached it. */
interface Receiver {
  port: number;
  hits: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string; remotePort: number }>;
  server: Server;
}

type Handler = (req: IncomingMessage, res: ServerResponse, receiver: Receiver) => void;

const servers: Server[] = [];
const clients: WebhookHttpClient[] = [];

async function receiver(handler: Handler, host = '127.0.0.1'): Promise<Receiver> {
  const r: Receiver = { port: 0, hits: [], server: undefined as unknown as Server };
  r.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.hits.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remotePort: req.socket.remotePort ?? 0,
      });
      handler(req, res, r);
    });
  });
  servers.push(r.server);
  await new Promise<void>((resolve) => r.server.listen(0, host, resolve));
  r.port = (r.server.address() as AddressInfo).port;
  return r;
}

const ok: Handler = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end('{"ok":true}');
};

function client(options: Partial<WebhookHttpClientOptions> = {}): WebhookHttpClient {
  const c = new WebhookHttpClient({ allowedCidrs: [], timeoutMs: 2_000, ...options });
  clients.push(c);
  return c;
}

/** A resolver that answers from a table, counting calls. */
function fakeDns(table: Record<string, string[]>): LookupAllFn & { calls: string[] } {
  const calls: string[] = [];
  const fn = ((hostname, _options, callback) => {
    calls.push(hostname);
    const addresses = table[hostname];
    setImmediate(() => {
      if (!addresses) {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      } else {
        callback(
          null,
          addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
        );
      }
    });
  }) as LookupAllFn & { calls: string[] };
  fn.calls = calls;
  return fn;
}

/**
 * Upper bounds on elapsed time are this many times the timeout they check: a busy machine may run a timer late by
 * far more than the timeout itself, and "cut at its timeout" still differs from "waited for something else" (the
 * receivers here never answer, or answer only after the test's own timeout).
 */
const LATE = 10;
/** …and lower bounds allow this much: a timer may fire a little early by performance.now() (libuv keeps whole ms, cached per loop turn). */
const EARLY = 10;

/** A send, and how long it took as seen from outside the client (performance.now(), in ms). */
async function timed<T>(send: () => Promise<T>): Promise<{ outcome: T; elapsed: number }> {
  const started = performance.now();
  const outcome = await send();
  return { outcome, elapsed: performance.now() - started };
}

const post = (url: string, headers: Record<string, string> = {}) => ({
  url,
  headers: { 'content-type': 'application/json', ...headers },
  body: '{"event":"issue.created"}',
});

function expectError(outcome: HttpOutcome, error: string): Extract<HttpOutcome, { kind: 'error' }> {
  if (outcome.kind !== 'error') throw new Error(`expected error "${error}", got HTTP ${outcome.status}`);
  expect(outcome.error).toBe(error);
  return outcome;
}

function expectResponse(outcome: HttpOutcome): Extract<HttpOutcome, { kind: 'response' }> {
  if (outcome.kind !== 'response') throw new Error(`expected a response, got ${outcome.error}: ${outcome.detail}`);
  return outcome;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

describe('WebhookHttpClient: address guard', () => {
  it('refuses a receiver on 127.0.0.1 unless 127.0.0.0/8 is allowed, never naming the path or query', async () => {
    const r = await receiver(ok);
    const url = `http://127.0.0.1:${r.port}/hooks/T0SECRET/B0SECRET?token=s3cr3t`;

    const refusing = await timed(() => client().send(post(url)));
    const refused = expectError(refusing.outcome, 'blocked address');
    expect(refused.detail).toContain('127.0.0.1');
    expect(refused.detail).toContain('loopback (127.0.0.0/8)');
    expect(refused.detail).not.toMatch(/SECRET|s3cr3t|hooks/);
    // the duration of the send itself (rounded), not a time of day nor a count from elsewhere
    expect(refused.durationMs).toBeLessThanOrEqual(Math.ceil(refusing.elapsed));
    expect(r.hits).toHaveLength(0);

    const reaching = await timed(() => client({ allowedCidrs: ['127.0.0.0/8'] }).send(post(url, { 'X-Trace': 'a' })));
    const reached = expectResponse(reaching.outcome);
    expect(reached.status).toBe(200);
    expect(reached.body).toBe('{"ok":true}');
    expect(reached.durationMs).toBeLessThanOrEqual(Math.ceil(reaching.elapsed));
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]).toMatchObject({ method: 'POST', url: '/hooks/T0SECRET/B0SECRET?token=s3cr3t', body: '{"event":"issue.created"}' });
    expect(r.hits[0]!.headers['x-trace']).toBe('a');
    expect(r.hits[0]!.headers['content-type']).toBe('application/json');
  });

  it('refuses and reaches a receiver on [::1] the same way', async () => {
    const r = await receiver(ok, '::1');
    const url = `http://[::1]:${r.port}/hook`;
    const refused = expectError(await client({ allowedCidrs: ['127.0.0.0/8'] }).send(post(url)), 'blocked address');
    expect(refused.detail).toContain('loopback (::1/128)');
    expect(r.hits).toHaveLength(0);
    expect(expectResponse(await client({ allowedCidrs: ['::1/128'] }).send(post(url))).status).toBe(200);
  });

  it('refuses the odd spellings of 127.0.0.1 in a URL', async () => {
    const r = await receiver(ok);
    const c = client();
    for (const host of ['2130706433', '0177.0.0.1', '0x7f.1', '127.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]']) {
      expectError(await c.send(post(`http://${host}:${r.port}/x`)), 'blocked address');
    }
    expect(r.hits).toHaveLength(0);
  });

  it('refuses a host name resolving to 127.0.0.1, and reaches it, pinned, when allowed', async () => {
    const r = await receiver(ok);
    const lookup = fakeDns({ 'hooks.example.test': ['127.0.0.1'] });

    const refused = expectError(await client({ lookup }).send(post(`http://hooks.example.test:${r.port}/t/SECRET`)), 'blocked address');
    expect(refused.detail).toContain('hooks.example.test');
    expect(refused.detail).toContain('127.0.0.1 is loopback');
    expect(refused.detail).not.toContain('SECRET');
    expect(r.hits).toHaveLength(0);

    // The name only exists in the injected resolver: reaching the receiver shows the connection
    // went to the checked address, with no second lookup, and the Host header kept the name.
    lookup.calls.length = 0;
    const reached = expectResponse(await client({ lookup, allowedCidrs: ['127.0.0.0/8'] }).send(post(`http://hooks.example.test:${r.port}/t`)));
    expect(reached.status).toBe(200);
    expect(lookup.calls).toEqual(['hooks.example.test']);
    expect(r.hits[0]!.headers.host).toBe(`hooks.example.test:${r.port}`);
  });

  it('refuses a host if ANY of its addresses is refused, before connecting to any', async () => {
    const lookup = fakeDns({
      'mixed.example.test': ['8.8.8.8', '127.0.0.1'],
      'meta.example.test': ['1.1.1.1', '169.254.169.254'],
      'meta6.example.test': ['2606:4700:4700::1111', 'fd00:ec2::254'],
    });
    const c = client({ lookup });
    expect(expectError(await c.send(post('http://mixed.example.test/x')), 'blocked address').detail).toContain('127.0.0.1');
    const everything = client({ lookup, allowedCidrs: ['0.0.0.0/0', '::/0'] });
    expect(expectError(await everything.send(post('http://meta.example.test/x')), 'blocked address').detail).toContain('cloud metadata');
    expect(expectError(await everything.send(post('https://meta6.example.test/x')), 'blocked address').detail).toContain('fd00:ec2::254');
  });

  it('refuses metadata addresses even with everything allowed', async () => {
    const c = client({ allowedCidrs: ['0.0.0.0/0', '::/0'] });
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/', 'http://[::ffff:169.254.169.254]/']) {
      expect(expectError(await c.send(post(url)), 'blocked address').detail).toContain('cloud metadata');
    }
  });

  it('reports a name that does not resolve as dns', async () => {
    const outcome = expectError(await client({ lookup: fakeDns({}) }).send(post('https://nowhere.example.test/hook')), 'dns');
    expect(outcome.detail).toContain('nowhere.example.test');
    expect(outcome.detail).toContain('ENOTFOUND');
  });

  it('falls back to the next checked address when one refuses the connection', async () => {
    const r = await receiver(ok); // listens on 127.0.0.1 only: 127.0.0.2 refuses
    const lookup = fakeDns({ 'two.example.test': ['127.0.0.2', '127.0.0.1'] });
    const outcome = expectResponse(await client({ lookup, allowedCidrs: ['127.0.0.0/8'] }).send(post(`http://two.example.test:${r.port}/`)));
    expect(outcome.status).toBe(200);
  });
});

describe('WebhookHttpClient: protocol', () => {
  const allowLocal = { allowedCidrs: ['127.0.0.0/8'] };

  it('returns a redirect to a local address as a 302, without following it', async () => {
    const r = await receiver((req, res, self) => {
      if (req.url === '/x') return ok(req, res, self);
      res.writeHead(302, { Location: `http://127.0.0.1:${self.port}/x` });
      res.end();
    });
    const outcome = expectResponse(await client(allowLocal).send(post(`http://127.0.0.1:${r.port}/start`)));
    expect(outcome.status).toBe(302);
    expect(outcome.headers.location).toBe(`http://127.0.0.1:${r.port}/x`);
    expect(r.hits.map((h) => h.url)).toEqual(['/start']);
  });

  it('returns a redirect to a public host as a 301/302/307/308, without following it', async () => {
    for (const status of [301, 302, 307, 308]) {
      const r = await receiver((_req, res) => {
        res.writeHead(status, { Location: 'http://8.8.8.8/elsewhere' });
        res.end();
      });
      const outcome = expectResponse(await client(allowLocal).send(post(`http://127.0.0.1:${r.port}/start`)));
      expect(outcome.status).toBe(status);
      expect(outcome.headers.location).toBe('http://8.8.8.8/elsewhere');
      expect(r.hits).toHaveLength(1);
    }
  });

  it('reports how long an exchange took: from the send to the end of the answer', async () => {
    let held = 0;
    const r = await receiver((_req, res, self) => {
      const from = performance.now();
      setTimeout(() => {
        held = performance.now() - from;
        ok(_req, res, self);
      }, 100);
    });
    const { outcome, elapsed } = await timed(() => client(allowLocal).send(post(`http://127.0.0.1:${r.port}/`)));
    const reached = expectResponse(outcome);
    expect(reached.durationMs).toBeGreaterThanOrEqual(Math.floor(held));
    expect(reached.durationMs).toBeLessThanOrEqual(Math.ceil(elapsed));
  });

  it('times out on a server that accepts but never answers', async () => {
    const r = await receiver(() => {
      /* never answers */
    });
    const { outcome: timedOut, elapsed } = await timed(() => client({ ...allowLocal, timeoutMs: 200 }).send(post(`http://127.0.0.1:${r.port}/slow?token=SECRET`)));
    const outcome = expectError(timedOut, 'timeout');
    expect(elapsed).toBeGreaterThanOrEqual(200 - EARLY);
    expect(elapsed).toBeLessThan(200 * LATE);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(200 - EARLY);
    expect(outcome.detail).toContain('200 ms');
    expect(outcome.detail).not.toContain('SECRET');
  });

  it('takes an answer that came in while this process was stalled past the deadline, rather than calling it a timeout', async () => {
    // the receiver answers at once, then this process blocks for 3× the timeout: the answer waits
    // in the socket while the deadline passes; the endpoint was fast, the stall was ours
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}', () => {
        const until = performance.now() + 600;
        while (performance.now() < until) {
          /* a long synchronous task of this process */
        }
      });
    });
    const outcome = await client({ ...allowLocal, timeoutMs: 200 }).send(post(`http://127.0.0.1:${r.port}/`));
    expect(outcome).toMatchObject({ kind: 'response', status: 200, body: '{"ok":true}' });
  });

  it('abandons a request when told to (its instance stops attempting), without waiting for the timeout', async () => {
    const stop = new AbortController();
    // told while the receiver holds the request: only the signal can end it before the timeout (longer than the test's)
    const r = await receiver(() => stop.abort(new Error('this instance lost its heartbeat')));
    const outcome = expectError(await client({ ...allowLocal, timeoutMs: 120_000 }).send(post(`http://127.0.0.1:${r.port}/`), stop.signal), 'network');
    expect(outcome.detail).toBe('abandoned: this instance lost its heartbeat');
    // told before it starts: nothing is sent at all. One connection, so a request that did go out would reach
    // the receiver before the marker sent after it (a receiver of its own: the abandoned one above is not its)
    const untouched = await receiver(ok);
    const c = client({ ...allowLocal, connectionsPerOrigin: 1 });
    expectError(await c.send(post(`http://127.0.0.1:${untouched.port}/told-before`), stop.signal), 'network');
    expectResponse(await c.send(post(`http://127.0.0.1:${untouched.port}/marker`)));
    expect(untouched.hits.map((hit) => hit.url)).toEqual(['/marker']);
  });

  it('times out on a server that sends headers and then stalls the body', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '1000' });
      res.write('partial');
    });
    const { outcome: timedOut, elapsed } = await timed(() => client({ ...allowLocal, timeoutMs: 200 }).send(post(`http://127.0.0.1:${r.port}/`)));
    const outcome = expectError(timedOut, 'timeout');
    expect(elapsed).toBeGreaterThanOrEqual(200 - EARLY);
    expect(elapsed).toBeLessThan(200 * LATE);
    expect(outcome.detail).toContain('body');
  });

  it('times out on a resolver that never answers', async () => {
    const hanging: LookupAllFn = () => {
      /* never calls back */
    };
    const { outcome, elapsed } = await timed(() => client({ lookup: hanging, timeoutMs: 200 }).send(post('http://slow-dns.example.test/')));
    expectError(outcome, 'timeout');
    expect(elapsed).toBeGreaterThanOrEqual(200 - EARLY);
    expect(elapsed).toBeLessThan(200 * LATE);
  });

  it('reports a closed port as connection refused', async () => {
    const r = await receiver(ok);
    const port = r.port;
    await new Promise<void>((resolve) => r.server.close(() => resolve()));
    const outcome = expectError(await client(allowLocal).send(post(`http://127.0.0.1:${port}/hook?token=SECRET`)), 'connection refused');
    expect(outcome.detail).toContain('ECONNREFUSED');
    expect(outcome.detail).not.toContain('SECRET');
  });

  it('reports a failed TLS handshake as tls', async () => {
    const r = await receiver(ok); // plain HTTP: the TLS handshake fails
    const outcome = expectError(await client(allowLocal).send(post(`https://127.0.0.1:${r.port}/`)), 'tls');
    expect(outcome.detail).not.toBe('');
  });

  it('cuts a 100 KB body to 16 KB', async () => {
    const big = 'a'.repeat(100 * 1024);
    const r = await receiver((_req, res) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(big);
    });
    // one connection to the origin: the second request waits for it, and gets it back only if the rest of the
    // first body was drained (a connection cut instead would show as a new one, from another port)
    const c = client({ ...allowLocal, connectionsPerOrigin: 1 });
    const outcome = expectResponse(await c.send(post(`http://127.0.0.1:${r.port}/`)));
    expect(outcome.status).toBe(500);
    expect(outcome.body).toBe('a'.repeat(16 * 1024));
    expectResponse(await c.send(post(`http://127.0.0.1:${r.port}/`)));
    expect(r.hits).toHaveLength(2);
    expect(r.hits[1]!.remotePort).toBe(r.hits[0]!.remotePort);
  });

  it('cuts an endless body without reading it all, and never splits a character', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      const chunk = Buffer.from('é'.repeat(32 * 1024)); // 64 KB of two-byte characters
      let sent = 0;
      const pump = () => {
        while (sent < 3 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('error', () => undefined);
      pump();
    });
    const outcome = expectResponse(await client({ ...allowLocal, maxResponseBytes: 1001 }).send(post(`http://127.0.0.1:${r.port}/`)));
    expect(outcome.body).toBe('é'.repeat(500));
  });

  it('returns lower-cased header names, repeated ones joined with ", "', async () => {
    const r = await receiver((_req, res) => {
      res.setHeader('X-Request-ID', 'abc');
      res.setHeader('Retry-After', '120');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.writeHead(429, { 'Content-Type': 'text/plain' });
      res.end('slow down');
    });
    const outcome = expectResponse(await client(allowLocal).send(post(`http://127.0.0.1:${r.port}/`)));
    expect(outcome.status).toBe(429);
    expect(outcome.headers['x-request-id']).toBe('abc');
    expect(outcome.headers['retry-after']).toBe('120');
    expect(outcome.headers['content-type']).toBe('text/plain');
    expect(outcome.headers['set-cookie']).toBe('a=1, b=2');
    for (const name of Object.keys(outcome.headers)) expect(name).toBe(name.toLowerCase());
  });

  it('accepts only http: and https: URLs, and never echoes an invalid one', async () => {
    const c = client({ allowedCidrs: ['0.0.0.0/0'] });
    expect(expectError(await c.send(post('ftp://files.example.test/x')), 'network').detail).toContain('"ftp:"');
    expect(expectError(await c.send(post('file:///etc/passwd')), 'network').detail).toContain('"file:"');
    const invalid = expectError(await c.send(post('not a url with SECRET')), 'network');
    expect(invalid.detail).toBe('invalid URL');
  });
});
