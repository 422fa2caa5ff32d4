import { Writable } from 'node:stream';
import { startTestApp } from './support/test-app.js';

describe('logs', () => {
  it('writes one JSON line per request with its request id, the token redacted', async () => {
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
      await new Promise((r) => setTimeout(r, 50));
      const records = lines.map((l) => JSON.parse(l) as { req?: { id: string; url: string; headers: Record<string, string> }; res?: { statusCode: number }; responseTime?: number });
      const request = records.find((r) => r.req?.id === 'trace-me-1');
      expect(request).toMatchObject({ req: { url: '/api/projects', headers: { authorization: '[redacted]' } }, res: { statusCode: 201 }, responseTime: expect.any(Number) });
      expect(lines.join('\n')).not.toContain(t.auth.Authorization.slice('Bearer '.length));
    } finally {
      await t.close();
    }
  });
});
