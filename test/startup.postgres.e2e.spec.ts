import { Writable } from 'node:stream';
import { startTestApp, tempDir } from './support/test-app.js';

describe('instances starting together on one empty PostgreSQL database', () => {
  it('migrate one after another and create the System Bot and the admin exactly once', async () => {
    const dir = tempDir();
    const errors: string[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        errors.push(String(chunk));
        done();
      },
    });
    // three instances at once
    const apps = await Promise.all([1, 2, 3].map(() => startTestApp({ dir, logStream, env: { HERALD_BACKGROUND_WORKERS: 'false' } })));
    try {
      // none had to retry (TypeORM retries a failed start: a migration race would show here)
      expect(errors).toEqual([]);
      const users = await apps[0].http.get('/api/users/me').set(apps[0].auth).expect(200);
      expect(users.body).toMatchObject({ id: 2, role: 'ADMIN' });
      for (const t of apps) await t.http.get('/api/users/me').set(t.auth).expect(200);
      const log = (await apps[1].http.get('/api/events?limit=100').set(apps[1].auth).expect(200)).body as { streamId: string; type: string }[];
      expect(log.filter((e) => e.type === 'user.created').map((e) => e.streamId)).toEqual(['user-1', 'user-2']);
      // and the next user gets the next id on any of them
      const next = await apps[2].http.post('/api/users').set(apps[2].auth).send({ name: 'Next', email: 'next@example.com' }).expect(201);
      expect(next.body.id).toBe(3);
    } finally {
      for (const t of apps) await t.close();
    }
  });
});
