import { Writable } from 'node:stream';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { sqliteHandle } from '../../src/database/data-source.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { api } from '../support/api.js';
import { postgresAdminUrl } from '../support/postgres.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, testEngine, type TestApp } from '../support/test-app.js';

/**
 * The database refuses writes while reads still work, as on a full disk: SQLite's
 * `query_only` on Herald's writing connection (SQLITE_READONLY), or on PostgreSQL the
 * database made read-only and its sessions ended (25006 on the new ones). The end-to-end
 * tests with a really full disk and a stopped server are test/storage/*.
 */
async function refuseWrites(t: TestApp, refuse: boolean): Promise<void> {
  if (t.config.database.kind === 'sqlite') {
    sqliteHandle(t.app.get(DataSource)).pragma(`query_only = ${refuse ? 1 : 0}`);
    return;
  }
  const name = decodeURIComponent(new URL(t.config.database.url).pathname.slice(1));
  const admin = new pg.Client({ connectionString: postgresAdminUrl(), application_name: 'herald-tests' });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(name)} ${refuse ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`);
    // sessions take the database's settings when they start
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);
  } finally {
    await admin.end();
  }
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe(`a storage outage on ${testEngine()}: the database refuses writes`, () => {
  it('answers commands 503 with Retry-After and changes nothing, is not ready meanwhile, logs the outage once, and heals by itself', async () => {
    const lines: Record<string, any>[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const receiver = await new Receiver().start();
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    const t = await startTestApp({ env: { ...LOCAL_WEBHOOK_ENV, HERALD_BACKGROUND_WORKERS: 'true', LOG_LEVEL: 'info' }, logStream, clock });
    let closed = false;
    try {
      const a = api(t);
      const project = await a.createProject('Outage');
      await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'sink', url: receiver.url(), activityTypes: ['bb.issue.comment.create', 'bb.issue.field.update'] }, 201);
      const issue = await a.createIssue(project.id, { name: 'Before' });
      await a.comment(issue.id, 'before the outage');
      // recorded, not only arrived: an outage between the two would have it sent again after (at least once, same webhook-id)
      await until(
        async () => (await t.app.get(EventStore).query<{ status: string }>(`SELECT status FROM webhook_deliveries`)).map((d) => d.status),
        (statuses) => statuses.length === 1 && statuses[0] === 'DELIVERED',
        'the first delivery, recorded',
      );
      expect(receiver.received).toHaveLength(1);
      const etag = (await t.http.get(`/api/issues/${issue.id}`).set(t.auth).expect(200)).headers.etag;

      await refuseWrites(t, true);
      const rename = () => t.http.patch(`/api/issues/${issue.id}`).set(t.auth).set('if-match', etag).send({ name: 'During' });
      const refused = await rename();
      expect(refused.status).toBe(503);
      expect(refused.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(refused.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      expect(refused.body).toEqual({
        type: 'urn:herald:problem:storage-unavailable',
        title: 'Service Unavailable',
        status: 503,
        detail: expect.stringMatching(/^storage unavailable: .+; nothing was changed; retry later$/),
      });
      // every later command too, as the same problem
      const comment = await t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).send({ content: 'during the outage' });
      expect([comment.status, comment.body.type]).toEqual([503, 'urn:herald:problem:storage-unavailable']);

      // reads still work, and show nothing of the refused commands
      const during = await t.http.get(`/api/issues/${issue.id}`).set(t.auth).expect(200);
      expect([during.headers.etag, during.body.name]).toEqual([etag, 'Before']);
      expect((await a.get(`/api/issues/${issue.id}/comments`)).map((c: { content: string }) => c.content)).toEqual(['before the outage']);

      // not ready, with the reason; alive (a restart would not help)
      const ready = await until(
        () => t.http.get('/health/ready'),
        (r) => r.body.error?.database?.reason === 'read-only',
        'readiness to name the read-only database',
      );
      expect(ready.status).toBe(503);
      expect(ready.body.error.database).toEqual({
        status: 'down',
        message: expect.stringMatching(/^storage unavailable: the database (file cannot be written|server is read-only)/),
        reason: 'read-only',
        since: '2026-03-01T10:00:00.000Z',
        refusedCommands: 2,
        refusedQueries: 0,
      });
      expect(ready.body.error.webhooks).toEqual({ status: 'down', message: 'paused while storage is unavailable' });
      await t.http.get('/health/live').expect(200);
      const metrics = (await t.http.get('/metrics').expect(200)).text;
      expect(sample(metrics, 'herald_storage_available')).toBe(0);
      expect(sample(metrics, 'herald_storage_outages_total')).toBe(1);
      expect(sample(metrics, 'herald_storage_refused_requests_total{kind="command"}')).toBe(2);

      // storage comes back: ready again by itself, without a command
      clock.advance(41_000);
      await refuseWrites(t, false);
      await until(() => t.http.get('/health/ready'), (r) => r.status === 200, 'readiness after the outage');
      expect(sample((await t.http.get('/metrics').expect(200)).text, 'herald_storage_available')).toBe(1);

      // nothing was half-written: the retry with the same If-Match applies, once
      const renamed = await rename().expect(200);
      expect(renamed.body.name).toBe('During');
      await a.comment(issue.id, 'after the outage');
      // each accepted command is delivered, once; the refused ones never. Once the queue holds nothing more to send
      // and the service has stopped (letting what it had in flight finish), nothing more can arrive
      const store = t.app.get(EventStore);
      await until(
        async () => (await store.query<{ status: string }>(`SELECT status FROM webhook_deliveries`)).map((d) => d.status),
        (statuses) => statuses.length === 3 && statuses.every((status) => status === 'DELIVERED'),
        'the deliveries after the outage, recorded',
      );
      await t.close();
      closed = true;
      const delivered = receiver.received.map((r) => r.json.activity_type as string);
      expect(delivered.sort()).toEqual(['bb.issue.comment.create', 'bb.issue.comment.create', 'bb.issue.field.update']);
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(3);

      // one line when it began, one when it ended; no error, no stack trace per request
      const storageLines = lines.filter((l) => l.context === 'Storage');
      expect(storageLines.map((l) => [l.level, l.msg])).toEqual([
        [40, expect.stringMatching(/^storage unavailable: /)],
        [30, 'storage available again after 41 s (2 commands and 0 queries refused meanwhile)'],
      ]);
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    } finally {
      if (!closed) await t.close();
      await receiver.stop();
    }
  });
});
