import { Writable } from 'node:stream';
import { until } from './support/process-calls.js';
import { startTestApp } from './support/test-app.js';

describe('logs', () => {
  it('writes one JSON line per request with its request id, and no headers or bodies', async () => {
    const lines: string[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const t = await startTestApp({ env: { LOG_LEVEL: 'info' }, logStream });
    try {
      await t.http.post('/api/projects').set(t.auth).set('x-request-id', 'trace-me-1').send({ name: 'Logged' }).expect(201);
      // the line is written once the response has gone out: the client may have it first
      const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      await until(() => records().some((r) => r.requestId === 'trace-me-1' && r.msg === 'request completed'), 'the request\'s log line', 10_000);
      const request = records().find((r) => r.requestId === 'trace-me-1');
      expect(request).toMatchObject({ msg: 'request completed', method: 'POST', url: '/api/projects', route: '/api/projects', status: 201, responseTime: expect.any(Number) });
      expect(request).not.toHaveProperty('headers');
      expect(lines.join('\n')).not.toContain(t.auth.Authorization.slice('Bearer '.length));
    } finally {
      await t.close();
    }
  });
});
