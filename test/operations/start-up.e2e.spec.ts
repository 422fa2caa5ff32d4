import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/config.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { until } from '../support/process-calls.js';
import { ADMIN_TOKEN, startTestApp, tempDir, testDatabaseUrl } from '../support/test-app.js';

const NOW = '2026-03-01T10:00:00.000Z';

/** Read models of an older version, and a rebuild of them running elsewhere (another instance starting): a start waits for it. */
async function startUpThatWaits(dir: string): Promise<void> {
  const first = await startTestApp({ dir, clock: new ManualClock(NOW) });
  await first.app.get(EventStore).transact((tx) =>
    tx.exec([
      { sql: `UPDATE read_model_versions SET version = 1`, params: [] },
      {
        sql: `INSERT INTO read_model_rebuilds (id, number, state, phase, done, total, requested_by, instance, started_at, updated_at) VALUES ('elsewhere', 1000, 'running', 'replaying the log', 0, 0, 'start-up', 'other:1', ?, ?)`,
        // never stale by the clock of the starts below (a rebuild's row is stale after 30 s without a word)
        params: [NOW, '2999-01-01T00:00:00.000Z'],
      },
    ]),
  );
  await first.close();
}

describe('a start whose start-up work takes a while', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('listens at once: alive throughout, not ready and refusing other requests (saying why) until the work is done', async () => {
    await startUpThatWaits(dir);

    const config = loadConfig({ DATABASE_URL: await testDatabaseUrl(dir), HERALD_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'error' }, dir);
    let listening!: (app: NestFastifyApplication) => void;
    const listened = new Promise<NestFastifyApplication>((resolve) => (listening = resolve));
    const started = createApp(config, {
      clock: new ManualClock(NOW),
      listen: async (app) => {
        await app.listen(0, '127.0.0.1');
        listening(app);
      },
    });
    const app = await listened;
    const address = app.getHttpServer().address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    try {
      await until(async () => ((await (await get('/health/ready')).json()) as { error?: { startUp?: { phase?: string } } }).error?.startUp?.phase?.includes('waiting') === true, 'the start to wait');
      expect((await get('/health/live')).status).toBe(200);
      const ready = await get('/health/ready');
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { error: unknown }).error).toMatchObject({ startUp: { status: 'down', message: expect.stringMatching(/^starting: rebuilding the read models: waiting/) } });
      const refused = await get('/api/projects');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.headers.get('retry-after')).toBe('2');
      expect(await refused.json()).toMatchObject({ type: 'urn:herald:problem:starting', status: 503, detail: expect.stringMatching(/^Herald is starting \(rebuilding the read models: waiting/) });

      // the other rebuild ends without finishing (its instance stopped): this start rebuilds the read models itself
      await app.get(EventStore).transact((tx) => tx.exec([{ sql: `UPDATE read_model_rebuilds SET state = 'interrupted' WHERE id = 'elsewhere'`, params: [] }]));
      await started;
      expect((await get('/api/projects')).status).toBe(200);
      expect(((await (await get('/health/ready')).json()) as { info: unknown }).info).toMatchObject({ startUp: { status: 'up' } });
      expect(await (await get('/api/admin/projections/rebuild')).json()).toMatchObject({ number: 1001, state: 'done', requestedBy: 'start-up' });
    } finally {
      await (await started.catch(() => ({ app }))).app.close();
    }
  });

  it('stops cleanly on SIGTERM while it starts (the built service)', async () => {
    await startUpThatWaits(dir);
    const port = 21500 + Math.floor(Math.random() * 2000);
    const child = spawn(process.execPath, [resolve('dist/src/main.js')], {
      cwd: dir,
      env: { PATH: process.env.PATH, DATABASE_URL: await testDatabaseUrl(dir), PORT: String(port), HERALD_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = once(child, 'exit');
    try {
      await until(async () => {
        const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
        return ((await ready?.json()) as { error?: { startUp?: { phase?: string } } } | undefined)?.error?.startUp?.phase?.includes('waiting') === true;
      }, 'the built service to listen and wait');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect({ code, output }).toEqual({ code: 0, output: '' });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
